"""Helpers of the Modbus process-level tests: peers, configs, runs of the binary."""
import json
import os
import signal
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import harness  # noqa: E402

BINARY = os.environ.get("UC_BINARY", "")
PY = "/usr/bin/python3"  # Debian's, with pymodbus (the pyenv shim has none)


def can_connect(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_pymodbus_tcp(port, log=None):
    args = [PY, os.path.join(HERE, "modbus_pymodbus_server.py"), "--tcp", str(port)]
    if log:
        args += ["--log", log]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    harness.wait_for(lambda: can_connect(port) or p.poll() is not None, 20, f"pymodbus server on {port}")
    if p.poll() is not None:
        raise AssertionError("pymodbus server exited: " + p.stderr.read())
    return p


def stop(p, sig=signal.SIGTERM):
    if p is None:
        return
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for f in (p.stdout, p.stderr):
        if f:
            f.close()


def yaml_source(name, endpoint, registers, **keys):
    """One modbus source as YAML text (flow maps; registers: dicts)."""
    lines = [f"  - name: {name}", "    protocol: modbus", f"    endpoint: \"{endpoint}\""]
    for k, v in keys.items():
        lines.append(f"    {k}: {json.dumps(v)}")
    lines.append("    registers:")
    for r in registers:
        lines.append("      - " + json.dumps(r))
    return "\n".join(lines) + "\n"


def write_config(workdir, sources_yaml, extra=""):
    text = ("connector: {name: modbus-test, log_level: info, data_dir: \"%s\"}\n"
            "web_ui: {enabled: false}\n"
            "sinks: {file: {enabled: true, directory: \"%s\"}}\n%s"
            "sources:\n%s") % (os.path.join(workdir.path, "data"), os.path.join(workdir.path, "records"), extra,
                               sources_yaml)
    return workdir.write("config.yaml", text)


def peer_registers(tags):
    """Config entries for modbus_peer_values.tags()."""
    out = []
    for t in tags:
        r = {"name": t["name"], "table": t["table"], "address": t["address"], "type": t["type"]}
        if t["table"] in ("holding", "input"):
            r["byte_order"] = t["byte_order"]
        if t["type"] == "string":
            r["length"] = t["length"]
        out.append(r)
    return out


def read_records(config, source, batches=1, timeout_ms=20000):
    r = subprocess.run([BINARY, "read", "--config", config, "--source", source, "--batches", str(batches),
                        "--timeout-ms", str(timeout_ms)], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError(f"read exited {r.returncode}: {r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def check_value(test, rec, typ, want):
    """The record's value equals want exactly (numbers by value, text by text)."""
    test.assertEqual(rec["quality"], "good", rec)
    if typ == "bool":
        test.assertEqual(rec["value_type"], "bool", rec)
        test.assertIs(rec["value_bool"], want, rec)
    elif typ == "string":
        test.assertEqual(rec["value_type"], "string", rec)
        test.assertEqual(rec["value_str"], want, rec)
    elif typ in ("float32", "float64"):
        test.assertEqual(rec["value_type"], "double", rec)
        test.assertEqual(float(rec["value_str"]), want, rec)
    else:
        test.assertEqual(rec["value_type"], "int64" if typ.startswith("int") else "uint64", rec)
        test.assertEqual(int(rec["value_str"]), want, rec)
