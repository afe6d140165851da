"""The manifest: one YAML file per dataset, validated by these pydantic models.

The models are the truth about the format; `schemas/manifest.schema.json` is generated from them
(`schema.py`, `pygestor schema --output schemas/manifest.schema.json`) and a test keeps the two in
step.

    name: wikipedia
    description: Cleaned Wikipedia articles, one subset per dump date and language.
    modality: [text]
    license: cc-by-sa-3.0
    source:
      huggingface: wikimedia/wikipedia
      revision: main
    subsets:
      - files: "{subset}/train-*.parquet"
    format: parquet
    load:
      columns: [id, url, title, text]
"""

from __future__ import annotations

import json
import os
import re
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from .patterns import (
    DATASET_NAME,
    Pattern,
    PatternError,
    Template,
    compile_pattern,
    compile_template,
)

_HF_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Format(str, Enum):
    """How partition files are read. Compression (`.gz`, `.zst`, `.bz2`) follows the extension."""

    parquet = "parquet"
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    text = "text"


class HuggingFaceSource(_Model):
    """A dataset repository on the Hugging Face Hub (or any Hub-compatible `HF_ENDPOINT`)."""

    huggingface: str = Field(
        description="Dataset repository id, `owner/name`.", examples=["wikimedia/wikipedia"]
    )
    revision: str = Field(
        "main",
        description="Branch, tag or commit to list; sync records the commit it resolved.",
        examples=["main", "refs/convert/parquet", "v1.0"],
    )

    @field_validator("huggingface")
    @classmethod
    def _repo_id(cls, value: str) -> str:
        for prefix in ("https://huggingface.co/datasets/", "hf://datasets/"):
            if value.startswith(prefix):
                repo_id = "/".join(value[len(prefix) :].split("/")[:2])
                raise ValueError(f"write the repository id alone, e.g. {repo_id!r}")
        if not _HF_REPO.fullmatch(value) or ".." in value:
            raise ValueError(f"{value!r} is not a repository id; write 'owner/name'")
        return value

    @field_validator("revision")
    @classmethod
    def _revision(cls, value: str) -> str:
        if not value or ".." in value or value.startswith("/") or any(c.isspace() for c in value):
            raise ValueError(f"{value!r} is not a branch, tag or commit name")
        return value

    @property
    def kind(self) -> str:
        return "huggingface"

    def describe(self) -> str:
        return f"hf://datasets/{self.huggingface}@{self.revision}"


class LocalSource(_Model):
    """A folder on this machine or a mounted network share (NFS, SMB), read in place."""

    local: str = Field(
        description="Absolute folder path; `~` and `$VARS` are expanded.",
        examples=["/mnt/nfs/corpus"],
    )

    @field_validator("local")
    @classmethod
    def _folder(cls, value: str) -> str:
        if not value.startswith(("/", "~", "$")):
            raise ValueError(
                f"{value!r} is not an absolute path; give one such as /mnt/nfs/corpus (or ~/... or "
                "$VAR/...), "
                "since a relative path would depend on the folder pygestor runs in"
            )
        return value

    @property
    def kind(self) -> str:
        return "local"

    @property
    def folder(self) -> Path:
        """The folder, with `~` and `$VARS` expanded."""
        return Path(os.path.expandvars(self.local)).expanduser()

    def describe(self) -> str:
        return self.local


def _source_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("huggingface", "local"):
            if key in value:
                return key
        return None
    return getattr(value, "kind", None)


Source = Annotated[
    Annotated[HuggingFaceSource, Tag("huggingface")] | Annotated[LocalSource, Tag("local")],
    Discriminator(
        _source_kind,
        custom_error_type="source_kind",
        custom_error_message="source needs one of the keys 'huggingface' (owner/name) or 'local' "
        "(a folder)",
    ),
]


class SubsetRule(_Model):
    """One rule turning matching files into subsets; a file belongs to the first rule it matches."""

    files: str | list[str] = Field(
        description=(
            "Path pattern(s) relative to the source root. `{name}` captures text inside one "
            "folder or file name, `{name:REGEX}` constrains it, `*` matches inside one segment, "
            "`**` across folders."
        ),
        examples=["{subset}/train-*.parquet", "{config}/c4-{split}.*.json.gz"],
    )
    name: str | None = Field(
        None,
        description=(
            "Subset name template, e.g. `{config}.{split}`, or a fixed name such as `train`. "
            "Default: the `{subset}` capture, else all captures joined with '.'."
        ),
    )
    exclude: list[str] = Field(
        default_factory=list, description="Globs of files this rule must not take."
    )
    format: Format | None = Field(
        None, description="Overrides the manifest's format for these files."
    )
    description: str | None = Field(None, description="What this rule's subsets hold.")

    @cached_property
    def patterns(self) -> tuple[Pattern, ...]:
        texts = [self.files] if isinstance(self.files, str) else self.files
        return tuple(compile_pattern(t) for t in texts)

    @cached_property
    def excludes(self) -> tuple[Pattern, ...]:
        return tuple(compile_pattern(t, placeholders=False) for t in self.exclude)

    @cached_property
    def template(self) -> Template:
        if self.name is not None:
            return compile_template(self.name)
        fields = self.patterns[0].fields
        if "subset" in fields:
            return compile_template("{subset}")
        return compile_template(".".join(f"{{{f}}}" for f in fields))

    @field_validator("files")
    @classmethod
    def _patterns(cls, value: str | list[str]) -> str | list[str]:
        texts = [value] if isinstance(value, str) else value
        if not texts:
            raise ValueError("give at least one pattern")
        for text in texts:
            try:
                compile_pattern(text)
            except PatternError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("exclude")
    @classmethod
    def _excludes(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                compile_pattern(text, placeholders=False)
            except PatternError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_template(value)
            except PatternError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _template_fields_captured(self) -> SubsetRule:
        if self.name is None and not self.patterns[0].fields:
            raise ValueError(
                f"pattern {self.patterns[0].text!r} captures nothing, so the subset needs a fixed "
                "name: add e.g. 'name: train'"
            )
        for pattern in self.patterns:
            missing = [f for f in self.template.fields if f not in pattern.fields]
            if missing:
                raise ValueError(
                    f"name {self.template.text!r} uses {{{missing[0]}}}, which pattern "
                    f"{pattern.text!r} does not capture"
                )
        return self


class LoadOptions(_Model):
    """How `load` and `stream` read the data by default; `columns`, `dtypes` and `decode` can be
    overridden per call. Together they replace pygestor 0.1's per-dataset `process_samples` code."""

    columns: list[str] | Literal["all"] | None = Field(
        None,
        description=(
            "Default column projection: a list of column names, or `all` (the default: every "
            'column). A call\'s `columns=` overrides it; `columns="all"` reads every column '
            "whatever the manifest says. `pygestor validate --resolve` checks the names against "
            "one file of each subset."
        ),
        examples=[["id", "text"], "all"],
    )

    @field_validator("columns", mode="before")
    @classmethod
    def _columns(cls, value: Any) -> Any:
        if value is None or value == "all" or isinstance(value, list):
            return value
        raise ValueError(f"expected a list of column names or 'all', got {value!r}")

    dtypes: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Column -> type to convert to after reading: an Arrow type name (`int32`, `float32`, "
            "`string`, `large_string`, `bool`, `date32`, `timestamp[ms]`, ...) or `category` (a "
            'pandas categorical; a dictionary column with `output="arrow"`).'
        ),
        examples=[{"label": "category", "score": "float32"}],
    )
    column_types: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Column -> Arrow type name to *read* `jsonl`, `json`, `csv` and `text` files with, "
            "instead of types inferred from the first file (a `text` file has one column, `text`). "
            "Parquet files carry their own types: convert them with `dtypes`."
        ),
        examples=[{"id": "string", "timestamp": "timestamp[s]"}],
    )
    decode: dict[str, Literal["image", "json"]] = Field(
        default_factory=dict,
        description=(
            "Column -> decoder for pandas output: `image` turns image bytes, or `{bytes, path}` "
            "structs (Hugging Face image columns), into PIL images (`pip install "
            "'pygestor[image]'`); "
            "`json` parses JSON text into Python objects. Arrow output keeps the stored values."
        ),
        examples=[{"image": "image"}],
    )
    json_field: str | None = Field(
        None,
        description=(
            "For `json` documents: the key holding the list of records (`data` in "
            '`{"version": 1, "data": [...]}`). Default: the document itself when it is a list, '
            "else its only key whose value is a list."
        ),
    )

    @staticmethod
    def type_names() -> tuple[str, ...]:
        """The Arrow type names `dtypes` and `column_types` accept: what `pyarrow.type_for_alias`
        takes (a test checks the two agree)."""
        return (
            "bool", "boolean", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
            "uint64", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "float16", "float32",
            "float64", "halffloat", "float", "double", "f2", "f4", "f8", "string", "str", "utf8",
            "large_string", "large_str", "large_utf8", "string_view", "binary", "large_binary",
            "binary_view", "date32", "date64",
            "date32[day]", "date64[ms]", "time32[s]", "time32[ms]", "time64[us]", "time64[ns]",
            "timestamp[s]", "timestamp[ms]", "timestamp[us]", "timestamp[ns]", "duration[s]",
            "duration[ms]", "duration[us]", "duration[ns]", "month_day_nano_interval", "null",
        )  # fmt: skip

    @field_validator("dtypes", "column_types")
    @classmethod
    def _type_names(cls, value: dict[str, str], info: Any) -> dict[str, str]:
        names = cls.type_names()
        allowed = (*names, "category") if info.field_name == "dtypes" else names
        for column, name in value.items():
            if name not in allowed:
                import difflib

                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(
                    f"{column}: {name!r} is not a type name; {hint}use an Arrow type name such as "
                    f"int64, float32, string, large_string, bool, date32, timestamp[ms]"
                    + (" or category" if info.field_name == "dtypes" else "")
                )
        return value


class Manifest(_Model):
    """One dataset of the catalog."""

    schema_: str | None = Field(None, alias="$schema", description="Editor hint; ignored.")
    name: str = Field(
        description="Catalog key: lowercase letters, digits, '.', '_', '-'.", examples=["wikipedia"]
    )
    description: str = Field("", description="One or two sentences shown by `pygestor list`.")
    modality: list[Literal["text", "image", "audio", "video", "tabular", "multimodal", "other"]] = (
        Field(default_factory=list, description="What the data holds; shown by `pygestor list`.")
    )
    license: str | None = Field(None, description="License identifier, e.g. `cc-by-sa-3.0`.")
    homepage: str | None = Field(None, description="http(s) URL of the dataset's page or card.")
    tags: list[str] = Field(default_factory=list, description="Free-form keywords.")
    source: Source = Field(description="Where the files live: `huggingface:` or `local:`.")
    subsets: list[SubsetRule] = Field(
        min_length=1, description="Rules grouping files into subsets, in order."
    )
    format: Format | None = Field(
        None, description="How files are read; default: from each file's extension."
    )
    load: LoadOptions = Field(LoadOptions(), description="Defaults for `load` and `stream`.")

    model_config = ConfigDict(extra="forbid", frozen=True)  # `$schema` only by its alias

    @field_validator("name")
    @classmethod
    def _dataset_name(cls, value: str) -> str:
        if not DATASET_NAME.fullmatch(value) or len(value) > 100:
            raise ValueError(
                f"{value!r} is not a dataset name: use lowercase letters, digits, '.', '_' and "
                "'-', "
                "starting with a letter or digit"
            )
        return value

    @field_validator("homepage")
    @classmethod
    def _homepage(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    def fingerprint(self) -> str:
        """A short hash of the manifest's meaning, recorded with each sync."""
        import hashlib

        text = json.dumps(self.model_dump(mode="json", exclude={"schema_"}), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def known_keys() -> set[str]:
    """Every key a manifest may use, at any depth (for "did you mean" hints)."""
    models = (Manifest, HuggingFaceSource, LocalSource, SubsetRule, LoadOptions)
    return {field.alias or name for model in models for name, field in model.model_fields.items()}
