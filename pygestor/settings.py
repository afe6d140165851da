"""Where data and manifests live, read from arguments, the environment and a config file, once.

Precedence for the data directory (first that is set wins):

1. an explicit argument (`Catalog(data_dir=...)`, `pygestor --data-dir`),
2. the environment variable `PYGESTOR_DATA_DIR`,
3. `data_dirs` (a list: layered data directories, see below) or `data_dir` (one) in the config
   file (`$PYGESTOR_CONFIG`, else `$XDG_CONFIG_HOME/pygestor/config.yaml`, else
   `~/.config/pygestor/config.yaml`); both at once is an error,
4. the default `~/.cache/pygestor/data` (`$XDG_CACHE_HOME/pygestor/data` when set).

Layered data directories (`data_dirs: [~/pyg, /shared/datasets]`): the first is the personal
tier, the only one pygestor writes to (sync, download, remove); the others are read-only shared
tiers, read in order: a partition downloaded (and recorded) in any tier is local and read where it
is, and a dataset not synced in the personal tier uses the first shared tier's listing. An
argument or `PYGESTOR_DATA_DIR` names one data directory and replaces the whole list (no shared
tiers then), so `--data-dir X` always means "exactly X".

Manifest folders, searched in this order: the `catalog` argument, then `PYGESTOR_CATALOG`
(`os.pathsep`-separated), then `catalog` in the config file (a list), then the user folder
`~/.config/pygestor/catalog` (where `pygestor add` writes), then the built-in catalog.

An object store as the data directory: `s3://bucket/prefix` (`pygestor.storage.s3`; `file://`
URLs are local folders), as the personal tier only. Its credentials come from the usual chain
(`AWS_*` variables, profiles, instance roles), a custom endpoint from `AWS_ENDPOINT_URL`, and
`storage_options` in the config file (`endpoint_url`, `region`, `profile`, ...) overrides them.
Other URLs (`gs://`, `az://`, ...) are one clear error: they have no backend yet.

The config file's keys: `data_dir`, `data_dirs`, `catalog`, `lock_timeout` (seconds),
`file_mode` (octal text such as "664", for group-shared data dirs), `storage_options` (a
mapping, for an object-store data directory). Any other key is an error.

The Hub endpoint and token are not settings of ours: `HF_ENDPOINT` and `HF_TOKEN` (or the
client's saved login) are read by `huggingface_hub` itself, so every Hugging Face tool agrees.
A token is never written anywhere by pygestor.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PygestorError

#: The manifests that ship with pygestor: `pygestor/_catalog` in a wheel, `catalog/` in a checkout.
_PACKAGE_DIR = Path(__file__).resolve().parent


def builtin_catalog_dir() -> Path:
    """The folder of built-in manifests, in a wheel or in a source checkout."""
    packaged = _PACKAGE_DIR / "_catalog"
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / "catalog"


@dataclass(frozen=True)
class Settings:
    """Everything pygestor needs to know about its environment, resolved once and passed down."""

    data_dir: Path  # the personal tier: every write goes here
    user_catalog_dir: Path
    extra_catalog_dirs: tuple[Path, ...] = ()
    builtin_catalog_dir: Path = field(default_factory=builtin_catalog_dir)
    include_builtin: bool = True
    lock_timeout: float = 600.0
    file_mode: int | None = None  # e.g. 0o664 for shared data dirs; None keeps the umask
    hf_endpoint: str | None = None  # None: the client's default (https://huggingface.co)
    hf_token: str | None = field(default=None, repr=False)  # None: the client's saved login
    shared_data_dirs: tuple[Path, ...] = ()  # read-only tiers below `data_dir`, in order
    #: the personal tier on an object store (`s3://bucket/prefix`) instead of `data_dir`, which
    #: then only holds what stays on this machine (the web UI's job files)
    data_url: str | None = None
    storage_options: Mapping[str, Any] = field(default_factory=dict)  # for `data_url`

    @property
    def data_dirs(self) -> tuple[Path, ...]:
        """Every tier, the personal one (`data_dir`, written to) first, then the shared ones."""
        return (self.data_dir, *self.shared_data_dirs)

    @property
    def catalog_dirs(self) -> tuple[Path, ...]:
        """Manifest folders in precedence order (user folders first, built-in last)."""
        dirs = [*self.extra_catalog_dirs, self.user_catalog_dir]
        if self.include_builtin:
            dirs.append(self.builtin_catalog_dir)
        seen: dict[Path, None] = {}
        for d in dirs:
            seen.setdefault(d.expanduser(), None)
        return tuple(seen)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / ".pygestor"

    @classmethod
    def from_env(
        cls,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        catalog: Sequence[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
        include_builtin: bool = True,
    ) -> Settings:
        """Resolve settings from arguments, then `env` (default `os.environ`), then the config
        file."""
        env = os.environ if env is None else env
        home = Path(env.get("HOME") or Path.home())
        config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        cache_home = Path(env.get("XDG_CACHE_HOME") or home / ".cache")
        config = _read_config(
            Path(env.get("PYGESTOR_CONFIG") or config_home / "pygestor" / "config.yaml")
        )

        chosen = data_dir or env.get("PYGESTOR_DATA_DIR")
        layers = [os.fspath(chosen)] if chosen else config.get("data_dirs", [])
        data_url = None
        if layers and _object_store(layers[0]):
            data_url = layers.pop(0).rstrip("/")
        tiers = [_local_data_dir(d).absolute() for d in layers]
        if not tiers or data_url:
            tiers.insert(0, cache_home / "pygestor" / "data")
        extra = [Path(p).expanduser() for p in catalog]
        extra += [
            Path(p).expanduser() for p in env.get("PYGESTOR_CATALOG", "").split(os.pathsep) if p
        ]
        extra += [Path(p).expanduser() for p in config.get("catalog", [])]
        mode = config.get("file_mode")
        return cls(
            data_dir=tiers[0].absolute(),
            shared_data_dirs=tuple(tiers[1:]),
            user_catalog_dir=config_home / "pygestor" / "catalog",
            extra_catalog_dirs=tuple(extra),
            include_builtin=include_builtin,
            lock_timeout=float(config.get("lock_timeout", 600.0)),
            file_mode=int(str(mode), 8) if mode is not None else None,
            hf_endpoint=(env.get("HF_ENDPOINT") or "").rstrip("/") or None,
            hf_token=env.get("HF_TOKEN") or None,
            data_url=data_url,
            storage_options=config.get("storage_options", {}),
        )


def _object_store(text: str) -> bool:
    """True for an `s3://bucket[/prefix]` data directory (a bucket named, nothing unclean)."""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "s3":
        return False
    bucket = rest.split("/", 1)[0]
    if not bucket:
        raise PygestorError(
            f"data directory {text!r}: name the bucket (s3://bucket or s3://bucket/prefix)"
        )
    return True


def _local_data_dir(text: str) -> Path:
    """The data directory as a local path (`file://` URLs included). Other URLs (`gs://...`)
    are one clear error rather than a folder named `gs:` in the working directory; an `s3://`
    one is only possible as the first (personal) tier."""
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme.isalnum():
        return Path(text).expanduser()
    if scheme.lower() == "file":
        return Path(rest or "/")
    if scheme.lower() == "s3":
        raise PygestorError(
            f"data directory {text!r}: an object store can only be the personal (first) data "
            "directory, not a shared tier below it; list it first in data_dirs"
        )
    raise PygestorError(
        f"data directory {text!r}: {scheme}:// storage is not supported yet; use s3://bucket/"
        "prefix, a local or NFS folder (PYGESTOR_DATA_DIR, --data-dir or data_dir in the "
        "config file)"
    )


_CONFIG_KEYS = {"data_dir", "data_dirs", "catalog", "lock_timeout", "file_mode", "storage_options"}


def _read_config(path: Path) -> dict:
    """The config file as a dict ({} when absent); a broken file is a one-line error."""
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PygestorError(
            f"{path}: not valid YAML ({exc.__class__.__name__}); fix or remove it"
        ) from None
    if not isinstance(data, dict):
        raise PygestorError(
            f"{path}: expected a mapping of settings ({', '.join(sorted(_CONFIG_KEYS))})"
        )
    unknown = sorted(set(data) - _CONFIG_KEYS)
    if unknown:
        raise PygestorError(
            f"{path}: unknown setting {unknown[0]!r}; known: {', '.join(sorted(_CONFIG_KEYS))}"
        )
    if isinstance(data.get("catalog"), str):
        data["catalog"] = [data["catalog"]]
    for key in ("data_dir", "data_dirs"):
        if data.get(key, "") is None:  # `data_dir:` left empty: not set
            del data[key]
    if "data_dir" in data:
        if "data_dirs" in data:
            raise PygestorError(
                f"{path}: data_dir and data_dirs are both set; keep one (data_dirs: [personal, "
                "shared, ...] layers data directories, data_dir: names one)"
            )
        data["data_dirs"] = _data_dirs(path, "data_dir", [data.pop("data_dir")])
    elif "data_dirs" in data:
        data["data_dirs"] = _data_dirs(path, "data_dirs", data["data_dirs"])
    options = data.get("storage_options", {})
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise PygestorError(
            f"{path}: storage_options must be a mapping of option names to values (e.g. "
            f"storage_options: {{endpoint_url: http://127.0.0.1:8333, region: us-east-1}}); "
            f"got {options!r}"
        )
    return data


def _data_dirs(path: Path, key: str, value: object) -> list[str]:
    """The config file's `data_dirs` (or `data_dir`): a non-empty list of distinct folders."""
    if isinstance(value, str):
        value = [value]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise PygestorError(
            f"{path}: {key} must name a folder (data_dirs: a list of folders, the personal one "
            f"first, e.g. data_dirs: [~/pygestor-data, /shared/datasets]); got {value!r}"
        )
    seen: set[Path | str] = set()
    for text in value:
        where = text.rstrip("/") if "://" in text else Path(text).expanduser().absolute()
        if where in seen:
            raise PygestorError(f"{path}: data_dirs lists {text} twice; list each folder once")
        seen.add(where)
    return list(value)
