"""TextLineDataset, CsvDataset and make_csv_dataset: lines and records of files, with TensorFlow's types, defaults
and errors; CSV values compared with Python's csv module."""

import csv
import gzip

import numpy as np
import pytest

import shendu as tf
from shendu.data import TextLineDataset
from shendu.data import batching as batching_module
from shendu.data.experimental import CsvDataset, make_csv_dataset

TITANIC = """survived,sex,age,fare,embark_town
0,male,22.0,7.25,Southampton
1,female,38.0,71.2833,Cherbourg
1,female,,7.925,"Southampton, UK"
0,male,35.0,8.05,Southampton
1,male,27.0,13.0,Queenstown
"""


def test_text_lines_of_several_files_gzip_and_a_dataset_of_names(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"first\r\nsecond\n\nfourth")
    with gzip.open(tmp_path / "b.txt.gz", "wb") as f:
        f.write("caf\u00e9\n".encode())
    ds = TextLineDataset([str(tmp_path / "a.txt")])
    lines = [line.numpy() for line in ds]
    assert lines == [b"first", b"second", b"", b"fourth"]
    assert ds.element_spec == tf.TensorSpec((), tf.string)
    zipped = TextLineDataset(str(tmp_path / "b.txt.gz"), compression_type="GZIP")
    assert [s.decode() for s in zipped.as_numpy_iterator()] == ["caf\u00e9"]
    names = tf.data.Dataset.from_tensor_slices(np.array([str(tmp_path / "a.txt")] * 2))
    both = next(iter(TextLineDataset(names).batch(8)))
    assert both.shape == (8,) and both.dtype == object and both.numpy()[4] == b"first"
    with pytest.raises(FileNotFoundError, match=r"TextLineDataset: .*missing.txt does not exist"):
        list(TextLineDataset(str(tmp_path / "missing.txt")))
    with pytest.raises(ValueError, match="compression_type"):
        TextLineDataset(str(tmp_path / "a.txt"), compression_type="BZ2")


def test_text_lines_batch_by_index(tmp_path, monkeypatch):
    (tmp_path / "many.txt").write_text("\n".join(str(i) for i in range(100)))
    monkeypatch.setattr(batching_module, "_stack", lambda elements: pytest.fail("stacked element by element"))
    batches = list(TextLineDataset(str(tmp_path / "many.txt")).shuffle(100, seed=1).batch(32))
    assert sorted(int(v) for b in batches for v in b.numpy()) == list(range(100))


def test_csv_records_types_defaults_and_selection(tmp_path):
    path = tmp_path / "titanic.csv"
    path.write_text(TITANIC)
    ds = CsvDataset(str(path), [tf.int32, "", 0.0, tf.float64, "unknown"], header=True)
    rows = list(ds.as_numpy_iterator())
    reference = list(csv.reader(TITANIC.splitlines()))[1:]
    assert [r[1].decode() for r in rows] == [r[1] for r in reference]
    assert [r[4].decode() for r in rows] == [r[4] for r in reference]  # quoted fields keep their delimiter
    assert [float(r[3]) for r in rows] == [float(r[3]) for r in reference]
    assert rows[2][2] == 0.0 and isinstance(rows[0][0], np.int32) and isinstance(rows[0][2], np.float32)
    assert [s.dtype for s in ds.element_spec] == [np.int32, object, np.float32, np.float64, object]
    picked = CsvDataset(str(path), [tf.float32, tf.float32], header=True, select_cols=[0, 3])
    np.testing.assert_allclose(next(iter(picked.batch(5)))[1].numpy(), [float(r[3]) for r in reference])
    required = CsvDataset(str(path), [tf.int32, tf.string, tf.float32, tf.float32, tf.string], header=True)
    with pytest.raises(ValueError, match="column 2 is required but missing in record 2"):
        list(required)
    with pytest.raises(ValueError, match="expects 2"):
        list(CsvDataset(str(path), [0, 0], header=True))
    with pytest.raises(ValueError, match=r"column 1 in record 0 is 'male', not a valid int32"):
        list(CsvDataset(str(path), [0, 0], header=True, select_cols=[0, 1]))
    with pytest.raises(TypeError, match="float32, float64, int32, int64 or string"):
        CsvDataset(str(path), [np.bool_], header=True)


def test_make_csv_dataset_infers_columns_and_types_as_tensorflow(tmp_path):
    path = tmp_path / "titanic.csv"
    path.write_text(TITANIC)
    ds = make_csv_dataset(str(path), batch_size=2, label_name="survived", num_epochs=1, shuffle=False)
    batches = list(ds)
    assert len(batches) == 3
    features, label = batches[0]
    assert list(features) == ["sex", "age", "fare", "embark_town"]
    assert features["age"].dtype == np.float32 and label.dtype == np.int32
    assert features["sex"].numpy().tolist() == [b"male", b"female"]
    assert label.numpy().tolist() == [0, 1]
    assert batches[1][0]["age"].numpy().tolist() == [0.0, 35.0]  # a missing number is 0
    assert batches[2][0]["fare"].numpy().tolist() == [13.0]
    repeated = make_csv_dataset(str(path), batch_size=4, select_columns=["fare", "sex"], shuffle_seed=2)
    assert int(repeated.cardinality()) == tf.data.INFINITE_CARDINALITY
    taken = list(repeated.take(5))
    assert all(set(b) == {"sex", "fare"} and b["fare"].shape == (4,) for b in taken)
    counts = np.unique(np.concatenate([b["fare"].numpy() for b in taken]), return_counts=True)[1]
    assert counts.sum() == 20 and counts.max() <= 4  # every epoch has each row once
    with pytest.raises(ValueError, match="label_name 'nope'"):
        make_csv_dataset(str(path), batch_size=2, label_name="nope")
    with pytest.raises(ValueError, match="no files match"):
        make_csv_dataset(str(tmp_path / "*.tsv"), batch_size=2)


def test_make_csv_dataset_over_several_files_and_bad_rows(tmp_path):
    for i in range(3):
        (tmp_path / f"part{i}.csv").write_text("x,y\n" + "".join(f"{10 * i + k},{k % 2}\n" for k in range(4)))
    (tmp_path / "part3.csv").write_text("x,y\n30,1\nbad,0\n31\n")
    ds = make_csv_dataset(str(tmp_path / "part*.csv"), batch_size=5, label_name="y", num_epochs=1, shuffle_seed=0,
                          ignore_errors=True, column_defaults=[0, 0])
    xs = sorted(v for features, _ in ds for v in features["x"].numpy().tolist())
    assert xs == sorted([10 * i + k for i in range(3) for k in range(4)] + [30])
    (tmp_path / "bad.csv").write_text("x,y\n1,0\nbad,0\n")
    with pytest.raises(ValueError, match="column 0 in record 1 is 'bad', not a valid int32"):
        list(make_csv_dataset(str(tmp_path / "bad.csv"), batch_size=5, num_epochs=1, column_defaults=[0, 0]))
    with pytest.raises(ValueError, match=r"part3\.csv line 4 has 1 fields"):
        list(make_csv_dataset(str(tmp_path / "part3.csv"), batch_size=5, num_epochs=1, column_defaults=[0, 0]))
