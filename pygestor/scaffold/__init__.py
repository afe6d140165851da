"""`pygestor add`: a manifest scaffolded from a Hub dataset repository in one call.

    scaffold("ylecun/mnist", settings=settings)      # -> Scaffold (a value; nothing written)
    scaffold(...).write(path)                         # the manifest file, never clobbering

How subsets are found, in order:

1. The dataset card (`README.md` YAML): its `configs:` with `data_files` globs become rules; a
   single config gives subsets named by split, configs of one split each are named by config,
   anything else `config.split`. `dataset_info` (rows, bytes per split) goes into comments and
   the report.
2. Otherwise the file layout: every data file (parquet, JSON lines, JSON, CSV, text; by
   extension) is cut into folders, a name stem, a split word and a shard counter
   (`train-00000-of-00041`, datatrove `000_00000`, `c4-train.00000-of-01024`); files of one
   shape become one rule, whose varying parts are placeholders and name the subsets.
3. When the repository holds no data file pygestor reads (a loading script, archives), the
   Hub's `refs/convert/parquet` revision: `{config}/{split}/NNNN.parquet`.

Whatever the origin, the text is parsed back (`catalog.parse_text`) and resolved against the
same listing: every rule must take files, and each file must land in the subset intended for it
(else placeholders are constrained, then rules made explicit, until it does). What needs a
human look is returned in `Scaffold.review`. Library code: nothing here prints.

Modules, imports pointing down: `build` (scaffold, scaffold_listing, add) -> `infer` (card, else
layout, else conversion) -> `from_card`, `from_layout` (the rules from each) -> `render` (the
YAML text) -> `result` (SubsetInfo, Scaffold), `rules` (pattern text, placing files, the plan),
`card` (the dataset card), `refs` (repository references, names). This file imports nothing.
"""
