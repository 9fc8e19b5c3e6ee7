"""Reference runtime for Seldon MLServer: an onnxruntime session behind MLServer's OIP v2 API.

Used by run.sh --with-references via model-settings.json ("implementation": "mlserver_onnx.OnnxModel").
"""
import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


def as_array(value):
    """An ONNX output as an array; seq(map) (skl2onnx ZipMap) becomes [N, C] in key order, as OIP has no map."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        keys = sorted(value[0])
        return np.asarray([[row[k] for k in keys] for row in value], dtype=np.float32)
    return np.asarray(value)


class OnnxModel(MLModel):
    async def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self._session = ort.InferenceSession(self.settings.parameters.uri, options, providers=["CPUExecutionProvider"])
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        feeds = {i.name: NumpyCodec.decode_input(i).astype(np.float32) for i in payload.inputs}
        results = self._session.run(None, feeds)
        outputs = [NumpyCodec.encode_output(name=o.name, payload=as_array(v))
                   for o, v in zip(self._session.get_outputs(), results)]
        return InferenceResponse(model_name=self.name, outputs=outputs)
