"""Error replies raised as twospeed.Error subclasses, one test per class, against the real engine and
the real daemon; and the errors of this side: closed engines and clients, unreachable daemons, lost
connections, timeouts, replies that are not JSON-RPC."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import socket
import sqlite3
import threading
import time

import pytest

import twospeed
from conftest import retailer, unread_bytes, wait_for


def test_hierarchy():
    rpc = [twospeed.ParseError, twospeed.InvalidRequest, twospeed.MethodNotFound, twospeed.InvalidParams,
           twospeed.InternalError, twospeed.NotFound, twospeed.Conflict, twospeed.StoreError, twospeed.TooLarge,
           twospeed.ReadOnly, twospeed.RevisionMismatch, twospeed.PluginError, twospeed.PeerRefused,
           twospeed.TooManyClients]
    for cls in rpc:
        assert issubclass(cls, twospeed.RPCError) and issubclass(cls, twospeed.Error)
        assert cls.error_code in set(twospeed.ErrorCode)
    assert len({cls.error_code for cls in rpc}) == len(rpc) == len(twospeed.ErrorCode)
    for cls in (twospeed.DaemonUnreachable, twospeed.ConnectionLost):
        assert issubclass(cls, twospeed.CommunicationError) and issubclass(cls, ConnectionError)
    assert issubclass(twospeed.Timeout, TimeoutError) and issubclass(twospeed.Timeout, twospeed.CommunicationError)
    assert issubclass(twospeed.LibraryNotFoundError, twospeed.LibraryError)
    assert issubclass(twospeed.LibraryNotFoundError, FileNotFoundError)
    assert issubclass(twospeed.NotFound, LookupError) and issubclass(twospeed.InvalidParams, ValueError)
    for cls in (twospeed.ProgrammingError, twospeed.OpenError, twospeed.ProtocolError, twospeed.CommunicationError):
        assert issubclass(cls, twospeed.Error)


def test_from_error_maps_every_code_and_keeps_unknown_ones():
    for code in twospeed.ErrorCode:
        e = twospeed.RPCError.from_error({"code": int(code), "message": "m", "data": {"pointer": "/x", "reason": "r"}})
        assert type(e).error_code == code
        assert (e.code, e.message, e.data, e.pointer, e.reason) == (code, "m", {"pointer": "/x", "reason": "r"}, "/x", "r")
        assert e.to_error() == {"code": int(code), "message": "m", "data": {"pointer": "/x", "reason": "r"}}
    other = twospeed.RPCError.from_error({"code": -32099, "message": "new"})
    assert type(other) is twospeed.RPCError and other.code == -32099 and other.data == {}
    assert twospeed.RPCError.from_error({"code": "bad"}).code == twospeed.ErrorCode.INTERNAL_ERROR


def test_a_subclass_of_a_callers_own_takes_no_code_over():
    class Mine(twospeed.NotFound):
        pass
    assert type(twospeed.RPCError.from_error({"code": -32000, "message": "Not found"})) is twospeed.NotFound


def test_internal_error_class():
    # -32603 has no trigger from outside (the engine raises it only when it cannot encode its own
    # result, the daemon when a request is cut off by its shutdown): the mapping itself is checked.
    e = twospeed.RPCError.from_error({"code": -32603, "message": "Internal error",
                                      "data": {"reason": "the daemon is stopping"}})
    assert isinstance(e, twospeed.InternalError)
    assert str(e) == "Internal error (-32603): the daemon is stopping"


def test_errors_pickle(engine):
    with pytest.raises(twospeed.InvalidParams) as e:
        engine.upsert_product("retailer", {"id": "x", "name": "X", "status": "lite"})
    back = pickle.loads(pickle.dumps(e.value))
    assert type(back) is twospeed.InvalidParams and back.errors == e.value.errors and str(back) == str(e.value)
    lost = twospeed.DaemonUnreachable("gone")
    lost.errno = 2
    back = pickle.loads(pickle.dumps(lost))
    assert isinstance(back, ConnectionError) and back.errno == 2 and str(back) == "gone"


# -- one test per error reply, through both transports ------------------------------------------------


def test_parse_error(conn):
    reply = json.loads(conn.send('{"jsonrpc":"2.0","method":oops}'))
    e = twospeed.RPCError.from_error(reply["error"])
    assert isinstance(e, twospeed.ParseError)
    assert (e.code, e.line, e.column) == (-32700, 1, 30)
    assert e.position == 30 and "oops" in e.reason


def test_invalid_request(conn):
    with pytest.raises(twospeed.InvalidRequest) as e:
        conn.call("engine.info", "not params")
    assert e.value.code == -32600 and e.value.pointer == "/params"
    with pytest.raises(twospeed.InvalidRequest) as e:
        conn.call(42)  # type: ignore[arg-type]
    assert e.value.pointer == "/method"


def test_method_not_found(conn):
    with pytest.raises(twospeed.MethodNotFound) as e:
        conn.call("portfolio.frobnicate", {})
    assert e.value.code == -32601 and e.value.method == "portfolio.frobnicate" and e.value.pointer == "/method"


def test_invalid_params_lists_every_failure(conn):
    bad = {"id": "bad id!", "organization": {}, "journeys": [{"id": "j"}]}
    with pytest.raises(twospeed.InvalidParams) as e:
        conn.put_portfolio(bad)
    err = e.value
    assert err.code == -32602 and len(err.errors) >= 3
    pointers = [i.pointer for i in err.errors]
    assert "/portfolio/id" in pointers and "/portfolio/organization/name" in pointers
    assert err.pointer == err.errors[0].pointer and err.reason == err.errors[0].reason
    assert all(isinstance(i, tuple) and len(i) == 2 for i in err.errors)
    assert "(and %d more)" % (len(err.errors) - 1) in str(err)
    assert isinstance(err, ValueError)


def test_not_found(conn):
    with pytest.raises(twospeed.NotFound) as e:
        conn.get_portfolio("nope")
    assert (e.value.code, e.value.message, e.value.pointer) == (-32000, "Not found", "/id")
    assert e.value.reason == 'no portfolio with id "nope"'
    assert str(e.value) == 'Not found (-32000): /id: no portfolio with id "nope"'


def test_conflict(loaded):
    with pytest.raises(twospeed.Conflict) as e:
        loaded.remove_entity("retailer", "manager", "pm-checkout")
    assert e.value.code == -32001 and e.value.pointer == "/id"
    assert e.value.errors and all("pm-checkout" in i.reason for i in e.value.errors)
    assert loaded.get_entity("retailer", "manager", "pm-checkout")["id"] == "pm-checkout"


def test_revision_mismatch(loaded):
    with pytest.raises(twospeed.RevisionMismatch) as e:
        loaded.upsert_product("retailer", {"id": "x", "name": "X", "status": "idea"}, if_revision=3)
    assert e.value.code == -32005 and e.value.revision == 1


def _store_with_a_corrupt_kept_run(path):
    with twospeed.Engine(path) as eng:
        eng.put_portfolio(retailer())
        assert eng.run_assessment("retailer")["run"] == 1
    db = sqlite3.connect(path)
    db.execute("UPDATE assessment_run SET body = '{}'")
    db.commit()
    db.close()


def test_store_error_in_process(tmp_path):
    path = str(tmp_path / "store.sqlite")
    _store_with_a_corrupt_kept_run(path)
    with twospeed.Engine(path) as eng:
        with pytest.raises(twospeed.StoreError) as e:
            eng.get_assessment("retailer", 1)
        assert e.value.code == -32002 and "kept run 1" in e.value.reason


def test_store_error_through_the_daemon(tmp_path, start_daemon):
    path = str(tmp_path / "store.sqlite")
    _store_with_a_corrupt_kept_run(path)
    d = start_daemon(db=path)
    with twospeed.Client(d.socket) as c:
        with pytest.raises(twospeed.StoreError):
            c.get_assessment("retailer", 1)
        assert c.get_portfolio("retailer")["revision"] == 1


def test_too_large_in_process(engine):
    with pytest.raises(twospeed.TooLarge) as e:
        engine.call("engine.info", {"padding": "x" * (64 << 20)})
    assert e.value.code == -32003 and e.value.limit == 64 << 20 and e.value.size > 64 << 20
    assert engine.info()["portfolios"] == 0


def test_too_large_in_process_with_a_limit_of_its_own():
    with twospeed.Engine(max_request_bytes=2048) as eng:
        with pytest.raises(twospeed.TooLarge) as e:
            eng.put_portfolio(retailer())
        assert e.value.limit == 2048
        assert eng.info()["portfolios"] == 0
    with pytest.raises(twospeed.OpenError) as e:          # the library takes 1024 bytes at least
        twospeed.Engine(max_request_bytes=10)
    assert e.value.code == twospeed.OpenCode.EOPTIONS
    assert "/maxRequestBytes" in str(e.value), str(e.value)   # twospeed_open_error names the option


@pytest.mark.parametrize("size", [5000, 4 << 20])
def test_too_large_through_the_daemon_then_a_new_connection(start_daemon, size):
    # 5000 bytes arrive whole before the daemon answers; 4 MiB breaks the connection while being
    # sent, and the reply the daemon wrote before closing is still read.
    d = start_daemon(args=["--max-message-bytes", "4096"])
    with twospeed.Client(d.socket) as c:
        with pytest.raises(twospeed.TooLarge) as e:
            c.call("engine.info", {"padding": "x" * size})
        assert e.value.limit == 4096
        assert c.info()["portfolios"] == 0


PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                       "examples", "plugins")


def _check_plugin_error(conn):
    # The example shell plugin answers an unknown method with -32601; the engine reports it as -32006.
    with pytest.raises(twospeed.PluginError) as e:
        conn.call("plugin.call", {"plugin": "unowned-systems", "method": "no.such.method"})
    assert e.value.code == -32006 and e.value.plugin == "unowned-systems"


def test_plugin_error_in_process():
    if not shutil.which("jq"):
        pytest.skip("the example shell plugin needs jq")
    with twospeed.Engine(plugins=PLUGINS) as eng:
        _check_plugin_error(eng)


def test_plugin_error_through_the_daemon(start_daemon):
    if not shutil.which("jq"):
        pytest.skip("the example shell plugin needs jq")
    d = start_daemon(args=["--plugins", PLUGINS])
    with twospeed.Client(d.socket) as c:
        _check_plugin_error(c)


def test_wasm_plugin_failure(tmp_path):
    # The example wasm check (make plugins) with too little fuel for any call: -32006, failure "fuel".
    module = os.path.join(os.path.dirname(PLUGINS), "wasm", "team-size-check", "team_size_check.wasm")
    if not os.path.exists(module):
        pytest.skip("make plugins builds the example wasm plugin")
    (tmp_path / "plugin.json").write_text(json.dumps({
        "name": "starved", "version": "1", "kind": "wasm", "path": module, "extensionPoints": ["check"],
        "limits": {"fuel": 1000}}))
    with twospeed.Engine(plugins=str(tmp_path)) as eng:
        with pytest.raises(twospeed.PluginError) as e:
            eng.call("plugin.call", {"plugin": "starved", "method": "check.run", "params": {"portfolio": retailer()}})
        assert e.value.code == -32006 and e.value.plugin == "starved" and e.value.failure == "fuel"
        assert e.value.reason.startswith("out of fuel: the module used all 1000 units")
        assert eng.call("engine.info")["version"]


def test_read_only(start_daemon):
    d = start_daemon(args=["--allow-uid", "nobody" if os.getuid() != 65534 else "root",
                           "--read-only-uid", str(os.getuid())])
    with twospeed.Client(d.socket) as c:
        assert c.info()["portfolios"] == 0
        with pytest.raises(twospeed.ReadOnly) as e:
            c.put_portfolio(retailer())
        assert e.value.code == -32004 and e.value.pointer == "/method"
        assert c.list_portfolios() == []


def test_peer_refused(start_daemon):
    d = start_daemon(args=["--allow-uid", "nobody" if os.getuid() != 65534 else "root"])
    with twospeed.Client(d.socket) as c:
        with pytest.raises(twospeed.PeerRefused) as e:
            c.info()
        assert e.value.code == -32010 and e.value.data["uid"] == os.getuid()


def test_too_many_clients(start_daemon):
    d = start_daemon(args=["--max-clients", "1"])
    with twospeed.Client(d.socket) as first:
        # The daemon may still count the connection that saw it start: wait until it is gone.
        for _ in range(100):
            try:
                assert first.info()["portfolios"] == 0     # now it holds the daemon's one connection
                break
            except twospeed.TooManyClients:
                time.sleep(0.02)
        with twospeed.Client(d.socket) as second:
            with pytest.raises(twospeed.TooManyClients) as e:
                second.info()
            assert e.value.code == -32011 and e.value.data["limit"] == 1
        assert first.info()["portfolios"] == 0


def test_too_many_clients_of_one_uid(start_daemon):
    d = start_daemon(args=["--max-clients-per-uid", "1", "--log-level", "debug"])
    # The connection that saw the daemon start must be gone before this uid's one slot is free. It may
    # still sit in the listen backlog, not yet accepted: so wait for its accept and its close both.
    def probe_gone() -> bool:
        log = d.read_log()
        return log.count("connection accepted") >= 1 and log.count("connection accepted") == log.count("connection closed")
    wait_for(probe_gone, 10, "the start-up probe's connection to close", seen=lambda: d.read_log()[-1000:])
    with twospeed.Client(d.socket) as first:
        assert first.info()["portfolios"] == 0         # holds this uid's one connection
        with twospeed.Client(d.socket) as second:
            with pytest.raises(twospeed.TooManyClients) as e:
                second.info()
            assert e.value.code == -32011 and e.value.data["limit"] == 1
            assert e.value.data["option"] == "--max-clients-per-uid" and e.value.data["uid"] == os.getuid()
        assert first.info()["portfolios"] == 0


def test_a_half_sent_message_is_answered_and_closed_after_the_message_timeout(start_daemon):
    d = start_daemon(args=["--message-timeout", "1"])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(d.socket)
        s.sendall(b'{"jsonrpc":"2.0","method":"engine.info"')
        start = time.monotonic()
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        took = time.monotonic() - start
    reply = json.loads(data)
    assert reply["error"]["code"] == -32600 and reply["error"]["data"]["timeout"] == 1, reply
    assert "--message-timeout" in reply["error"]["data"]["reason"]
    assert 0.9 < took < 10, took
    with twospeed.Client(d.socket) as c:               # whole messages are served as before
        assert c.info()["portfolios"] == 0


# -- errors of this side --------------------------------------------------------------------------------


def test_engine_used_after_close(engine):
    engine.put_portfolio(retailer())
    engine.close()
    assert engine.closed
    for attempt in (engine.info, lambda: engine.call("engine.info"), lambda: engine.send("{}"),
                    lambda: engine.notify("engine.info"), lambda: engine.get_portfolio("retailer")):
        with pytest.raises(twospeed.ProgrammingError, match="closed engine"):
            attempt()
    engine.close()   # twice is harmless


def test_client_used_after_close(client):
    client.info()
    client.close()
    assert client.closed
    with pytest.raises(twospeed.ProgrammingError, match="closed client"):
        client.info()
    with pytest.raises(twospeed.ProgrammingError):
        client.send("{}")
    client.close()


def test_context_managers_close_even_on_errors(daemon):
    with pytest.raises(twospeed.NotFound):
        with twospeed.Engine() as eng:
            eng.get_portfolio("nope")
    assert eng.closed
    with pytest.raises(twospeed.NotFound):
        with twospeed.Client(daemon.socket) as c:
            c.get_portfolio("nope")
    assert c.closed


def test_open_errors(tmp_path):
    with pytest.raises(twospeed.OpenError) as e:
        twospeed.Engine(str(tmp_path / "no" / "such" / "folder" / "store.sqlite"))
    assert e.value.code == twospeed.OpenCode.ECANTOPEN and "ECANTOPEN" in str(e.value)
    text = tmp_path / "notes.txt"
    text.write_text("these are not the tables you are looking for\n" * 100)
    with pytest.raises(twospeed.OpenError) as e:
        twospeed.Engine(text)
    assert e.value.code == twospeed.OpenCode.ENOTSTORE and e.value.path == str(text)
    # twospeed_open_error's reason: SQLite's verdict on the file, and the schema version of a newer store.
    assert "file is not a database" in str(e.value), str(e.value)
    newer = tmp_path / "newer.sqlite"
    twospeed.Engine(newer).close()
    with sqlite3.connect(str(newer)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(twospeed.OpenError) as e:
        twospeed.Engine(newer)
    assert e.value.code == twospeed.OpenCode.ESCHEMA and "version 99" in str(e.value), str(e.value)
    with twospeed.Engine() as eng:
        assert eng.library.open_error() is None              # a successful open clears it


def test_daemon_unreachable_without_a_socket_file(tmp_path):
    path = str(tmp_path / "none.sock")
    with pytest.raises(twospeed.DaemonUnreachable) as e:
        twospeed.Client(path)
    assert isinstance(e.value, ConnectionError) and path in str(e.value)
    assert e.value.errno == 2 and e.value.filename == path


def test_daemon_unreachable_when_no_daemon_listens(tmp_path):
    path = str(tmp_path / "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()                       # the file stays, nobody listens: connection refused
    with pytest.raises(twospeed.DaemonUnreachable, match="refused"):
        twospeed.Client(path)


def test_no_socket_given(monkeypatch):
    monkeypatch.delenv("TWOSPEED_SOCKET", raising=False)
    with pytest.raises(ValueError, match="TWOSPEED_SOCKET"):
        twospeed.Client()


def test_socket_from_the_environment(daemon, monkeypatch):
    monkeypatch.setenv("TWOSPEED_SOCKET", daemon.socket)
    with twospeed.Client() as c:
        assert c.socket_path == daemon.socket and c.info()["portfolios"] == 0


def test_timeout_drops_the_connection_and_the_next_call_works(daemon):
    with twospeed.Client(daemon.socket, timeout=0.3) as c:
        c.put_portfolio(retailer())
        daemon.signal(signal.SIGSTOP)
        try:
            start = time.monotonic()
            with pytest.raises(twospeed.Timeout) as e:
                c.info()
            assert 0.25 < time.monotonic() - start < 5
            assert isinstance(e.value, TimeoutError)
        finally:
            daemon.signal(signal.SIGCONT)
        c.timeout = 30                      # whatever the machine's load, the next calls get their replies
        # The late reply to the timed-out call must not be taken for this one's.
        assert c.get_portfolio("retailer")["revision"] == 1
        assert c.info()["portfolios"] == 1


def test_connection_lost_when_the_daemon_dies_mid_call(daemon):
    with twospeed.Client(daemon.socket, timeout=20) as c:
        assert c.info()["portfolios"] == 0
        daemon.signal(signal.SIGSTOP)        # the request will sit unread ...
        errors = []

        def call():
            try:
                c.info()
            except twospeed.Error as e:
                errors.append(e)
        t = threading.Thread(target=call)
        t.start()
        wait_for(lambda: unread_bytes(daemon.socket) > 0, 10, "the request to reach the stopped daemon",
                 seen=lambda: "%d bytes unread" % unread_bytes(daemon.socket))
        daemon.kill()                         # ... until the daemon dies
        t.join(10)
        assert not t.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], twospeed.ConnectionLost)
        assert isinstance(errors[0], ConnectionError)
        with pytest.raises(twospeed.DaemonUnreachable):
            c.info()


def test_reconnects_to_a_restarted_daemon(tmp_path, start_daemon):
    path = str(tmp_path / "store.sqlite")
    d = start_daemon(db=path)
    with twospeed.Client(d.socket) as c:
        c.put_portfolio(retailer())
        d.stop()                              # the idle connection is closed under the client
        d.start()
        assert c.get_portfolio("retailer")["revision"] == 1   # nothing was sent on it: a new one is used


def test_reconnects_after_the_idle_timeout(start_daemon):
    d = start_daemon(args=["--idle-timeout", "1"])
    with twospeed.Client(d.socket) as c:
        c.info()
        d.wait_for_log("idle for 1 s")       # the daemon has closed the connection under the client
        assert c.info()["portfolios"] == 0


class _FakeDaemon:
    """A socket that answers each line with the given reply, to see how the client takes bad replies."""

    def __init__(self, path, reply):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.reply = reply
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rb")
                for line in f:
                    conn.sendall(self.reply(line))

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@pytest.mark.parametrize("reply,match", [
    (lambda line: b"this is not JSON\n", "not JSON"),
    (lambda line: b'{"jsonrpc":"2.0","result":1,"id":999}\n', "another request"),
    (lambda line: b'[1,2]\n', "not a JSON-RPC 2.0 response"),
])
def test_protocol_errors(tmp_path, reply, match):
    fake = _FakeDaemon(str(tmp_path / "fake.sock"), reply)
    try:
        with twospeed.Client(str(tmp_path / "fake.sock"), timeout=5) as c:
            with pytest.raises(twospeed.ProtocolError, match=match):
                c.info()
    finally:
        fake.close()
