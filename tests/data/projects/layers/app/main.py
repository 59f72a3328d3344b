"""Print the versions the image carries: enough to prove each layer is there."""

import importlib.metadata as md

for name in ("nvidia-cuda-runtime-cu12", "onnxruntime", "six"):
    print(name, md.version(name))
