"""``movierec``: the instructor's commands, thin wrappers around nbgrader.

    movierec release                       # notebooks/ from solutions/ (nbgrader generate_assignment)
    movierec sample-class ASSIGNMENT       # a demo class in submitted/ (alice: solution, bob: blank)
    movierec validate NOTEBOOK             # run a notebook's tests as nbgrader would
    movierec collect ASSIGNMENT ZIP        # downloaded submissions (student_file.ipynb) -> submitted/
    movierec autograde ASSIGNMENT [--jobs N]
    movierec feedback ASSIGNMENT [--with-hidden-tests]
    movierec export [--to grades.csv]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from movierec_instructor import course
from movierec_instructor.autograde import autograde
from movierec_instructor.nbgrader_runner import run_nbgrader
from movierec_instructor.results import export_grades, feedback, write_report

ZIP_FILE_PATTERN = r"^.*/(?P<student_id>[^/]+)_(?P<file_id>[^_/]+\.ipynb)$"  # matched on the full path


def collect_zip(course_dir: Path, assignment: str, archive: Path) -> None:
    """Unpacks a zip of ``<student>_<notebook>.ipynb`` files into ``submitted/`` (nbgrader zip_collect)."""
    target = course_dir / "downloaded" / assignment / "archive"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(archive, target)
    run_nbgrader(course_dir, "zip_collect", assignment, "--force",
                 f"--FileNameCollectorPlugin.named_regexp={ZIP_FILE_PATTERN}", check=True)


def sample_class(course_dir: Path, assignment: str) -> list[Path]:
    """Fills ``submitted/`` with a demo class: alice hands in the solution, bob the blank release."""
    written = []
    sources = {"alice": course_dir / "solutions", "bob": course_dir / "notebooks"}
    for student, folder in sources.items():
        for path in sorted((folder / assignment).glob("*.ipynb")):
            target = course_dir / "submitted" / student / assignment / path.name
            written.append(course.write_submission(path, target))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="movierec", description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="course directory")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("release")
    sample = sub.add_parser("sample-class")
    sample.add_argument("assignment")
    validate = sub.add_parser("validate")
    validate.add_argument("notebook", type=Path)
    collect = sub.add_parser("collect")
    collect.add_argument("assignment")
    collect.add_argument("zip", type=Path)
    grade = sub.add_parser("autograde")
    grade.add_argument("assignment")
    grade.add_argument("--jobs", type=int, default=1)
    grade.add_argument("--report", type=Path, default=None, help="CSV report (default grading-report-<id>.csv)")
    fb = sub.add_parser("feedback")
    fb.add_argument("assignment")
    fb.add_argument("--with-hidden-tests", action="store_true")
    export = sub.add_parser("export")
    export.add_argument("--to", type=Path, default=Path("grades.csv"))
    args = parser.parse_args(argv)
    root = args.course.resolve()

    if args.command == "release":
        course.release(root)
    elif args.command == "sample-class":
        for path in sample_class(root, args.assignment):
            print(f"wrote {path.relative_to(root)}")
    elif args.command == "validate":
        done = run_nbgrader(root, "validate", str(args.notebook.resolve()), log_level="WARN")
        print(done.stdout, end="")
        print(done.stderr, end="", file=sys.stderr)
        return done.returncode
    elif args.command == "collect":
        collect_zip(root, args.assignment, args.zip)
    elif args.command == "autograde":
        findings = autograde(root, args.assignment, jobs=args.jobs)
        report = write_report(findings, args.report or root / f"grading-report-{args.assignment}.csv")
        for f in findings:
            print(f"{f.student}: {f.problem} -> {f.action}")
        print(f"graded {args.assignment}; report: {report}")
    elif args.command == "feedback":
        feedback(root, args.assignment, hide_hidden_tests=not args.with_hidden_tests)
    elif args.command == "export":
        print(f"wrote {export_grades(root, root / args.to)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
