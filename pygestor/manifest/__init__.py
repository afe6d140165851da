"""Manifests: the models (`models`), their path patterns (`patterns`), the file-format table
(`formats`), finding and validating manifest files (`discovery`) and the generated JSON Schema
(`schema`). Pure but for `discovery`, which reads files. Nothing is imported here."""
