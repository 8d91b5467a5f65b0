"""Named datasets and downloads, against a real HTTP server on 127.0.0.1."""

import gzip
import hashlib
import http.server
import threading

import pytest

from ecn.data import DownloadError, dataset_file
from ecn.data.sources import download


@pytest.fixture(scope="module")
def val_csv(data_dir):
    with gzip.open(data_dir / "perov_5" / "val.csv.gz", "rb") as fh:
        return fh.read()


@pytest.fixture(scope="module")
def server(val_csv):
    """Serves /good/perov_5/val.csv, a corrupted copy under /corrupt, a truncated one under /truncated."""
    corrupted = bytearray(val_csv)
    corrupted[1000] ^= 1

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            kind = self.path.split("/")[1]
            if not self.path.endswith("/perov_5/val.csv") or kind not in ("good", "corrupt", "truncated"):
                self.send_error(404)
                return
            body = bytes(corrupted) if kind == "corrupt" else val_csv
            self.send_response(200)
            self.send_header("Content-Length", str(len(val_csv)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if kind == "truncated" else body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture()
def empty_env(tmp_path, monkeypatch):
    monkeypatch.delenv("ECN_DATA_DIR", raising=False)
    monkeypatch.setenv("ECN_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_download_verifies_and_caches(server, empty_env, val_csv):
    path = dataset_file("perov5", "val", base_url=f"{server}/good")
    assert path == empty_env / "data" / "perov_5" / "val.csv"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(val_csv).hexdigest()
    # second call: served from the cache, no server needed
    assert dataset_file("perov5", "val", base_url="http://127.0.0.1:9/unreachable") == path


@pytest.mark.parametrize(
    "kind,fragment", [("corrupt", "sha256"), ("truncated", "truncat"), ("missing", "HTTP Error 404")]
)
def test_bad_downloads_are_refused_and_leave_nothing(server, empty_env, kind, fragment):
    with pytest.raises(DownloadError) as info:
        dataset_file("perov5", "val", base_url=f"{server}/{kind}")
    assert fragment in str(info.value) or "broken transfer" in str(info.value)
    assert not list((empty_env / "data").rglob("*.csv")) and not list((empty_env / "data").rglob("*.part"))


def test_a_corrupted_cached_file_is_downloaded_again(server, empty_env):
    path = dataset_file("perov5", "val", base_url=f"{server}/good")
    path.write_bytes(b"tampered")
    assert dataset_file("perov5", "val", base_url=f"{server}/good").read_bytes() != b"tampered"


def test_shared_data_dir_is_used_and_checked(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ECN_DATA_DIR", str(data_dir))
    assert dataset_file("perov5", "test") == data_dir / "perov_5" / "test.csv.gz"
    fake = tmp_path / "perov_5"
    fake.mkdir()
    (fake / "test.csv.gz").write_bytes(gzip.compress(b"material_id,cif\n"))
    monkeypatch.setenv("ECN_DATA_DIR", str(tmp_path))
    with pytest.raises(DownloadError, match="corrupt"):
        dataset_file("perov5", "test")


def test_unknown_names_and_splits():
    with pytest.raises(ValueError, match="choices"):
        dataset_file("mp20", "train")
    with pytest.raises(ValueError, match="split"):
        dataset_file("carbon24", "train")


def test_download_function_checks_length(server, tmp_path):
    with pytest.raises(DownloadError):
        download(f"{server}/truncated/perov_5/val.csv", tmp_path / "x.csv", "0" * 64)
    assert not (tmp_path / "x.csv").exists()
