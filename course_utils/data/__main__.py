"""The data command line:

    python -m course_utils.data prepare [--source DIR_OR_ZIP_OR_URL] [--out DIR] [--force]
                                        [--no-progress]
    python -m course_utils.data manifest [--source DIR] [--out FILE]

`prepare` builds the SIGNS data folder (`build.prepare`) unless it is up to date; defaults:
`--source` `source.default_source()`, `--out` `paths.default_data_dir()`. `manifest` regenerates
the image manifest from a dataset folder (`manifest.write_manifest`). An error prints one line,
`error: <message>`, and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from course_utils.data.build import prepare
from course_utils.data.errors import SignsDataError
from course_utils.data.manifest import MANIFEST_PATH, write_manifest
from course_utils.data.paths import default_data_dir, default_source_dir
from course_utils.data.source import DEFAULT_SOURCE_URL


def main(argv: Sequence[str] | None = None) -> int:
    """The `python -m course_utils.data` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "prepare":
            prepare(args.source, args.out, force=args.force, progress=not args.no_progress)
        else:
            source = args.source if args.source is not None else default_source_dir()
            count = write_manifest(source, args.out)
            print(f"Wrote {args.out} ({count} images)")
    except SignsDataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.data",
        description=(
            "Build the SIGNS data files (train_signs.h5, test_signs.h5) from the Sign Language "
            "Digits Dataset, or regenerate its image manifest."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="build the SIGNS files unless up to date")
    prep.add_argument(
        "--source",
        default=None,
        help=(
            "dataset folder, its Dataset/ folder, a .zip, or an http(s):// or file:// URL of a zip "
            f"(default: {default_source_dir()} if present, else {DEFAULT_SOURCE_URL})"
        ),
    )
    prep.add_argument("--out", default=None, help=f"output folder (default: {default_data_dir()})")
    prep.add_argument("--force", action="store_true", help="rebuild even if up to date")
    prep.add_argument("--no-progress", action="store_true", help="no progress bars")
    man = commands.add_parser("manifest", help="write the SHA-256 manifest of the source images")
    man.add_argument(
        "--source", default=None, help=f"dataset folder (default: {default_source_dir()})"
    )
    man.add_argument(
        "--out", default=str(MANIFEST_PATH), help=f"manifest file (default: {MANIFEST_PATH})"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
