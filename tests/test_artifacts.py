"""Artifact fingerprints: the same content gives the same fingerprint, whatever zip timestamps,
save dates or process object ids a model file carries; any real change gives another."""

from __future__ import annotations

import json
import zipfile

from seedcheck.artifacts import fingerprint_file


def keras_like(path, date_time, date_saved, object_id, weights=b"\x01\x02"):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in (
            ("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": date_saved})),
            ("config.json", json.dumps({"layers": [{"shared_object_id": object_id}, {"shared_object_id": object_id},
                                                   {"units": 3}]})),
            ("model.weights.h5", weights),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=date_time), data)
    return path


def test_same_model_saved_by_two_processes_has_one_fingerprint(tmp_path):
    a = keras_like(tmp_path / "a.keras", (2026, 1, 1, 0, 0, 0), "2026-01-01@00:00:00", 139807799935824)
    b = keras_like(tmp_path / "b.keras", (2026, 1, 1, 0, 0, 8), "2026-01-01@00:00:09", 139941454187536)
    assert fingerprint_file(a)[0] == fingerprint_file(b)[0]
    assert fingerprint_file(a)[1] == {"size": a.stat().st_size, "zip_members": 3}


def test_changed_weights_or_sharing_change_the_fingerprint(tmp_path):
    base = fingerprint_file(keras_like(tmp_path / "a.keras", (2026, 1, 1, 0, 0, 0), "d", 1))[0]
    weights = fingerprint_file(keras_like(tmp_path / "b.keras", (2026, 1, 1, 0, 0, 0), "d", 1, weights=b"\x01\x03"))[0]
    assert weights != base
    with zipfile.ZipFile(tmp_path / "c.keras", "w") as archive:  # two distinct shared objects, not one
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", json.dumps({"layers": [{"shared_object_id": 5}, {"shared_object_id": 6},
                                                               {"units": 3}]}))
        archive.writestr("model.weights.h5", b"\x01\x02")
    assert fingerprint_file(tmp_path / "c.keras")[0] != base


def test_plain_files_are_hashed_by_content(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"x" * 3_000_000)
    (tmp_path / "b.txt").write_bytes(b"x" * 3_000_000)
    (tmp_path / "c.txt").write_bytes(b"x" * 2_999_999 + b"y")
    fps = [fingerprint_file(tmp_path / n)[0] for n in ("a.txt", "b.txt", "c.txt")]
    assert fps[0] == fps[1] != fps[2]
