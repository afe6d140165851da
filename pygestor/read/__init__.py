"""Reading stored partitions: what to read and how (`options`), files and their readers
(`files`), conversion to what is returned (`convert`), `load` / `stream` / `scan` (`tables`),
the Arrow copy (`arrow_copy`), and a look at one file or a dataset (`preview`, `info`). Each
takes a `Selection` (and the index where it needs one), never the facade. Nothing is imported
here."""
