"""shendu.explain against Captum on the same network converted to PyTorch (weights copied: Conv2D HWIO -> OIHW,
Dense kernels transposed; the torch model takes NHWC inputs and flattens in NHWC order, as shendu does)."""

import numpy as np
import pytest

import shendu as sd
from shendu import explain
from shendu.keras import Model, Sequential, layers

ATOL = 1e-4


def cnn():
    sd.random.seed(3)
    model = Sequential([
        layers.Input((10, 10, 2)),
        layers.Conv2D(4, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(5, (2, 2), activation="relu"),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
    x = np.random.default_rng(0).random((4, 10, 10, 2), dtype=np.float32)
    return model, x


def torch_cnn(torch, model):
    conv1, conv2, dense = model.layers[0], model.layers[2], model.layers[4]
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(2, 4, 3), nn.Sequential(nn.Conv2d(4, 5, 2), nn.ReLU())  # Keras's output
            self.pool, self.dense = nn.MaxPool2d(2), nn.Linear(45, 3)

        def forward(self, x):  # x: NHWC
            h = self.pool(torch.relu(self.conv1(x.permute(0, 3, 1, 2))))
            h = self.conv2(h)
            return torch.softmax(self.dense(h.permute(0, 2, 3, 1).flatten(1)), dim=1)

    net = Net()
    with torch.no_grad():
        for mine, theirs in ((conv1, net.conv1), (conv2, net.conv2[0])):
            theirs.weight.copy_(torch.tensor(mine.kernel.numpy().transpose(3, 2, 0, 1)))
            theirs.bias.copy_(torch.tensor(mine.bias.numpy()))
        net.dense.weight.copy_(torch.tensor(dense.kernel.numpy().T))
        net.dense.bias.copy_(torch.tensor(dense.bias.numpy()))
    return net.eval()


@pytest.fixture()
def pair(torch):
    model, x = cnn()
    net = torch_cnn(torch, model)
    target = model.predict(x, verbose=0).argmax(axis=1)
    np.testing.assert_allclose(net(torch.tensor(x)).detach().detach().numpy(), model.predict(x, verbose=0), atol=1e-6)
    return model, net, x, target, torch.tensor(x, requires_grad=True), [int(t) for t in target]


def test_saliency_and_gradient_x_input_match_captum(captum, pair):
    model, net, x, _, xt, tt = pair
    theirs = captum.Saliency(net).attribute(xt, target=tt).detach().numpy()
    np.testing.assert_allclose(explain.saliency(model, x), theirs, atol=ATOL)
    np.testing.assert_allclose(explain.saliency(model, x, abs=False),
                               captum.Saliency(net).attribute(xt, target=tt, abs=False).detach().numpy(), atol=ATOL)
    np.testing.assert_allclose(explain.gradient_x_input(model, x),
                               captum.InputXGradient(net).attribute(xt, target=tt).detach().numpy(), atol=ATOL)


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid", "riemann_middle"])
def test_integrated_gradients_match_captum(captum, pair, method):
    model, net, x, _, xt, tt = pair
    baseline = np.full_like(x, 0.25)
    mine, delta = explain.integrated_gradients(model, x, np.array(tt), baseline=baseline, steps=20, method=method,
                                               return_convergence_delta=True)
    theirs, their_delta = captum.IntegratedGradients(net).attribute(
        xt, baselines=xt * 0 + 0.25, target=tt, n_steps=20, method=method, return_convergence_delta=True)
    np.testing.assert_allclose(mine, theirs.detach().numpy(), atol=ATOL)
    np.testing.assert_allclose(delta, their_delta.detach().numpy(), atol=ATOL)


@pytest.mark.parametrize("relu", [True, False])
def test_grad_cam_matches_captum_layer_grad_cam_and_its_interpolation(captum, pair, relu):
    model, net, x, _, xt, tt = pair
    gc = captum.LayerGradCam(net, net.conv2)
    theirs = gc.attribute(xt, target=tt, relu_attributions=relu)  # (4, 1, 4, 4)
    name = model.layers[2].name
    np.testing.assert_allclose(explain.grad_cam(model, x, name, relu=relu, upsample=None),
                               theirs[:, 0].detach().numpy(), atol=ATOL)
    for mode in ("nearest", "bilinear"):
        up = captum.LayerAttribution.interpolate(theirs, (10, 10), interpolate_mode=mode)[:, 0].detach().numpy()
        np.testing.assert_allclose(explain.grad_cam(model, x, name, relu=relu, upsample=mode), up, atol=ATOL)


@pytest.mark.parametrize("window, stride", [((3, 3), 1), ((3, 4), (2, 3)), ((5, 5), 5)])
def test_occlusion_matches_captum(captum, pair, window, stride):
    model, net, x, _, xt, tt = pair
    theirs = captum.Occlusion(net).attribute(xt, sliding_window_shapes=(*window, 2),
                                             strides=(*((stride,) * 2 if isinstance(stride, int) else stride), 2),
                                             baselines=0.1, target=tt)
    np.testing.assert_allclose(explain.occlusion(model, x, window=window, stride=stride, baseline=0.1),
                               theirs.detach().numpy(), atol=ATOL)


def test_token_attributions_through_the_embedding_match_captum_layer_methods(torch, captum):
    sd.random.seed(1)
    ids_in = layers.Input((6,), dtype="int64")
    emb = layers.Embedding(12, 4)
    out = layers.Dense(2, activation="softmax")(layers.Dense(5, activation="tanh")(
        layers.GlobalAveragePooling1D()(emb(ids_in))))
    model = Model(ids_in, out)
    ids = np.random.default_rng(0).integers(1, 12, (3, 6))
    nn = torch.nn
    d1, d2 = model.layers[-2], model.layers[-1]
    net_emb, net_d1, net_d2 = nn.Embedding(12, 4), nn.Linear(4, 5), nn.Linear(5, 2)
    with torch.no_grad():
        net_emb.weight.copy_(torch.tensor(emb.embeddings.numpy()))
        for mine, theirs in ((d1, net_d1), (d2, net_d2)):
            theirs.weight.copy_(torch.tensor(mine.kernel.numpy().T))
            theirs.bias.copy_(torch.tensor(mine.bias.numpy()))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.d1, self.d2 = net_emb, net_d1, net_d2

        def forward(self, t):
            return torch.softmax(self.d2(torch.tanh(self.d1(self.emb(t).mean(dim=1)))), dim=1)

    net, ti, target = Net().eval(), torch.tensor(ids), [1, 0, 1]
    lig = captum.LayerIntegratedGradients(net, net.emb)
    theirs, their_delta = lig.attribute(ti, baselines=ti * 0, target=target, n_steps=30,
                                        return_convergence_delta=True)
    mine, delta = explain.integrated_gradients(model, ids, np.array(target), layer=emb.name, steps=30,
                                               return_convergence_delta=True)
    np.testing.assert_allclose(mine, theirs.detach().detach().numpy(), atol=ATOL)
    np.testing.assert_allclose(delta, their_delta.detach().detach().numpy(), atol=ATOL)
    per_token, _ = explain.token_attributions(model, ids, np.array(target), steps=30, return_convergence_delta=True)
    np.testing.assert_allclose(per_token, theirs.detach().detach().numpy().sum(-1), atol=ATOL)
    gxa = captum.LayerGradientXActivation(net, net.emb).attribute(ti, target=target)
    np.testing.assert_allclose(explain.gradient_x_input(model, ids, np.array(target), layer=emb.name),
                               gxa.detach().detach().numpy(), atol=ATOL)
