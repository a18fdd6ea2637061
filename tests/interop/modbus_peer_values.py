"""Known values of every type in all four word orders, shared by the pymodbus peer
server (which encodes them with pymodbus's own BinaryPayloadBuilder) and the tests
(which decode the connector's records and compare)."""

ORDERS = ["ABCD", "CDAB", "BADC", "DCBA"]
# pymodbus (byteorder, wordorder) per order; research/protocols.md §7.4.
PYMODBUS_ORDER = {"ABCD": (">", ">"), "CDAB": (">", "<"), "BADC": ("<", ">"), "DCBA": ("<", "<")}
BLOCK = 30  # registers per order block

# (name suffix, type, offset in block, value, string length)
FIELDS = [
    ("i16", "int16", 0, -2, 0),
    ("u16", "uint16", 1, 0xFEDC, 0),
    ("i32", "int32", 2, -100000, 0),
    ("u32", "uint32", 4, 4000000000, 0),
    ("f32", "float32", 6, 3.1415927410125732, 0),  # exactly a float: 0x40490FDB
    ("i64", "int64", 8, -0x0102030405060708, 0),
    ("u64", "uint64", 12, 0xF1E2D3C4B5A69788, 0),
    ("f64", "float64", 16, 6.02214076e23, 0),
    ("str", "string", 20, "Pump-01", 7),  # strings only in ABCD/CDAB: pymodbus never swaps string bytes
    ("flag", "bool", 24, True, 0),
]
COILS = [1, 0, 1, 1, 0, 0, 0, 1, 1, 0]


def tags():
    """Every register tag: dict(name, table, address, type, byte_order, value, length)."""
    out = []
    for k, order in enumerate(ORDERS):
        for suffix, typ, off, value, length in FIELDS:
            if typ == "string" and order in ("BADC", "DCBA"):
                continue
            for table in ("holding", "input"):
                out.append({"name": f"{table[0]}_{order.lower()}_{suffix}", "table": table,
                            "address": k * BLOCK + off, "type": typ, "byte_order": order,
                            "value": value, "length": length})
    for i, v in enumerate(COILS):
        out.append({"name": f"coil_{i}", "table": "coil", "address": i, "type": "bool", "value": bool(v), "length": 0})
        out.append({"name": f"di_{i}", "table": "discrete", "address": i, "type": "bool", "value": bool(v),
                    "length": 0})
    return out


def registers():
    """The register table (holding and input hold the same), encoded by pymodbus."""
    from pymodbus.payload import BinaryPayloadBuilder

    regs = [0] * (len(ORDERS) * BLOCK)
    for k, order in enumerate(ORDERS):
        bo, wo = PYMODBUS_ORDER[order]
        for _suffix, typ, off, value, length in FIELDS:
            b = BinaryPayloadBuilder(byteorder=bo, wordorder=wo)
            if typ == "int16":
                b.add_16bit_int(value)
            elif typ == "uint16":
                b.add_16bit_uint(value)
            elif typ == "int32":
                b.add_32bit_int(value)
            elif typ == "uint32":
                b.add_32bit_uint(value)
            elif typ == "float32":
                b.add_32bit_float(value)
            elif typ == "int64":
                b.add_64bit_int(value)
            elif typ == "uint64":
                b.add_64bit_uint(value)
            elif typ == "float64":
                b.add_64bit_float(value)
            elif typ == "string":
                b.add_string(value.encode().ljust(length + length % 2, b"\0"))
            elif typ == "bool":
                b.add_16bit_uint(1 if value else 0)
            words = b.to_registers()
            regs[k * BLOCK + off:k * BLOCK + off + len(words)] = words
    return regs
