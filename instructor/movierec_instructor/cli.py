"""``movierec``: the instructor's commands, thin wrappers around nbgrader.

movierec release                       # notebooks/ from solutions/ (nbgrader generate_assignment)
movierec sample-class ASSIGNMENT       # a demo class in submitted/ (alice: solution, bob: blank)
movierec validate NOTEBOOK             # run a notebook as grading will: visible points, what would cost marks
movierec collect ASSIGNMENT ZIP [--from plain|canvas|moodle|<preset>] [--mapping ids.csv]
movierec autograde ASSIGNMENT [--jobs N | --scheduler ADDRESS] [--student ID] [--no-sandbox]
movierec stats ASSIGNMENT [--out DIR]   # per-check pass rates, discrimination, flags
movierec similarity ASSIGNMENT [--threshold 0.6]
movierec handout OUT --through ASSIGNMENT [--due ASSIGNMENT] [--track pytorch]   # the course for students
movierec feedback ASSIGNMENT [--with-hidden-tests]
movierec export [--to grades.csv] [--format csv|canvas|moodle|<preset>] [--mapping ids.csv]
movierec test-strength [ASSIGNMENT ...] [--out test-strength] [--min-score 0.9]
movierec grade-service --course-id ID [--exchange ROOT] [--workers N] [--pool N]   # grading on a hub
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

from movierec_instructor import course
from movierec_instructor.course import TRACKS
from movierec_instructor.course.handout import build_handout
from movierec_instructor.grading.autograde import GRADING_KERNEL, autograde, grading_env, runtime_folder
from movierec_instructor.grading.late_policy import DeadlineError
from movierec_instructor.grading.nbgrader_runner import tool_env
from movierec_instructor.grading.results import feedback, write_report
from movierec_instructor.grading.submissions import NOT_GRADED
from movierec_instructor.hub import service as hub_service
from movierec_instructor.integrity.sandbox import SandboxUnavailable, check_available
from movierec_instructor.integrity.similarity import DEFAULT_THRESHOLD, similarity, write_csv, write_html
from movierec_instructor.integrity.untrusted import terminal_safe
from movierec_instructor.lms.collect import CollectError, collect
from movierec_instructor.lms.export import export_lms
from movierec_instructor.lms.presets import names as lms_names
from movierec_instructor.stats.item_analysis import analyse, class_results, summary_lines
from movierec_instructor.stats.item_report import write_stats
from movierec_instructor.strength.report import markdown_table, text_report, write_reports
from movierec_instructor.strength.runner import measure_assignment


def sample_class(course_dir: Path, assignment: str) -> list[Path]:
    """Fills ``submitted/`` with a demo class: alice hands in the solution, bob the blank release."""
    written = []
    sources = {"alice": course_dir / "solutions", "bob": course_dir / "notebooks"}
    for student, folder in sources.items():
        for path in sorted((folder / assignment).glob("*.ipynb")):
            target = course_dir / "submitted" / student / assignment / path.name
            written.append(course.write_submission(path, target))
    return written


def similarity_report(course: Path, assignment: str, threshold: float) -> None:
    """Writes and names the similarity report of an assignment (CSV and HTML)."""
    matches = similarity(course, assignment)
    flagged = sum(m.score >= threshold for m in matches)
    paths = (
        write_csv(matches, course / f"similarity-{assignment}.csv"),
        write_html(matches, course / f"similarity-{assignment}.html", threshold),
    )
    print(
        f"similarity: {flagged} of {len(matches)} pairs at or above {threshold:.2f}; "
        f"{paths[0].name}, {paths[1].name}"
    )


def test_strength(root: Path, names: list[str], out: Path, min_score: float) -> int:
    """Mutation-tests the graded exercises of ``names`` (all assignments when empty); writes the reports.

    Returns:
        0 when every exercise reaches ``min_score``, else 1.
    """
    names = names or course.assignments(root)
    start = time.perf_counter()
    strengths = []
    for name in names:
        strengths += measure_assignment(root, name, progress=print)
    seconds = time.perf_counter() - start
    print(text_report(strengths))
    paths = write_reports(strengths, out, "test-strength" if len(names) > 1 else names[0])
    (out / "README-table.md").write_text(markdown_table(strengths) + "\n", encoding="utf-8")
    print(
        f"{len(names)} assignment(s), {sum(len(s.results) for s in strengths)} mutants in {seconds:.0f} s; "
        f"reports: {paths['text']}, {paths['html']}"
    )
    weak = [s.exercise for s in strengths if s.score < min_score]
    if weak:
        print(f"below {min_score:.0%}: {', '.join(weak)}", file=sys.stderr)
        return 1
    return 0


def validate_notebook(notebook: Path, *, sandbox: bool = True):
    """Runs a student's notebook as grading will, in the grading kernel, without hidden tests.

    Returns:
        The :class:`~movierec_helpers.exercises.selfcheck.Report`: visible points per test
        cell, points pending from hidden checks, and whatever would cost marks.
    """
    from jupyter_client import KernelManager

    from movierec_helpers.exercises.selfcheck import check_notebook

    with tempfile.TemporaryDirectory() as tmp:
        runtime = runtime_folder(Path(tmp))
        manager = KernelManager(kernel_name=GRADING_KERNEL, transport="ipc", ip=str(runtime / "kernel"))
        return check_notebook(
            notebook,
            kernel_name=GRADING_KERNEL,
            kernel_manager=manager,
            env=tool_env(grading_env(sandbox, str(runtime))),
        )


def grade_on_cluster(root: Path, assignment: str, scheduler: str, *, sandbox: bool, only: list[str] | None):
    """:func:`cluster.autograde_on_cluster` with a progress bar on the terminal (graded, failed, retried)."""
    from tqdm import tqdm

    from movierec_instructor.grading.cluster import autograde_on_cluster

    with tqdm(desc=f"grading {assignment}", unit="student", file=sys.stderr) as bar:

        def progress(graded: int, failed: int, retried: int, total: int) -> None:
            bar.total = total
            bar.set_postfix(graded=graded, failed=failed, retried=retried)
            bar.update(1)

        return autograde_on_cluster(
            root, assignment, scheduler, sandbox=sandbox, only=only, progress=progress
        )


def print_findings(findings) -> None:
    """The report lines on the terminal, with student-controlled text escaped."""
    for f in findings:
        print(terminal_safe(f"{f.student}: {f.problem} -> {f.action}"))


def _add_course_commands(sub) -> None:
    sub.add_parser("release")
    sample = sub.add_parser("sample-class")
    sample.add_argument("assignment")
    validate = sub.add_parser("validate")
    validate.add_argument("notebook", type=Path)
    validate.add_argument("--no-sandbox", action="store_true", help="run the notebook outside the sandbox")
    hand = sub.add_parser("handout", help="the course for students, without answers not yet due")
    hand.add_argument("out", type=Path)
    hand.add_argument("--through", required=True, help="last assignment handed out")
    hand.add_argument("--due", default=None, help="last assignment whose answers may ship")
    hand.add_argument("--track", choices=TRACKS, default=None, help="default: the first of course.toml")
    strength = sub.add_parser("test-strength", help="mutation testing of every graded exercise's tests")
    strength.add_argument("assignments", nargs="*", help="default: every assignment")
    strength.add_argument("--out", type=Path, default=Path("test-strength"), help="report folder")
    strength.add_argument("--min-score", type=float, default=0.9, help="exit 1 below this mutation score")


def _add_grading_commands(sub) -> None:
    collect_cmd = sub.add_parser("collect")
    collect_cmd.add_argument("assignment")
    collect_cmd.add_argument("zip", type=Path)
    collect_cmd.add_argument(
        "--from",
        dest="fmt",
        choices=lms_names(),
        default="plain",
        help="how the LMS names files (plain: <student>_<notebook>.ipynb)",
    )
    collect_cmd.add_argument("--mapping", type=Path, default=None, help="CSV lms_id,student_id")
    grade = sub.add_parser("autograde")
    grade.add_argument("assignment")
    grade.add_argument("--jobs", type=int, default=1)
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade without the OS sandbox (submissions can then read answers; reported)",
    )
    grade.add_argument(
        "--report", type=Path, default=None, help="CSV report (default grading-report-<id>.csv)"
    )
    grade.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="grade on a Dask cluster: tcp://host:8786, a scheduler file, or local:N",
    )
    grade.add_argument(
        "--student",
        action="append",
        default=None,
        metavar="ID",
        help="regrade only this student (repeat for several); the others stay as graded",
    )
    grade.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help="similarity report: pairs shown from this score",
    )
    fb = sub.add_parser("feedback")
    fb.add_argument("assignment")
    fb.add_argument("--with-hidden-tests", action="store_true")
    export = sub.add_parser("export")
    export.add_argument("--to", type=Path, default=Path("grades.csv"))
    export.add_argument("--format", choices=lms_names(exporting=True), default="csv")
    export.add_argument("--mapping", type=Path, default=None, help="CSV lms_id,student_id (Canvas ids)")
    hub_service.add_arguments(sub.add_parser("grade-service", help="grade hand-ins from a JupyterHub"))


def _add_insight_commands(sub) -> None:
    stats_cmd = sub.add_parser(
        "stats", help="per check: pass rate, discrimination, common failures (CSV, HTML)"
    )
    stats_cmd.add_argument("assignment")
    stats_cmd.add_argument("--out", type=Path, default=None, help="folder for stats-<id>.csv/.json/.html")
    sim = sub.add_parser("similarity")
    sim.add_argument("assignment")
    sim.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)


def build_parser() -> argparse.ArgumentParser:
    """The ``movierec`` command line: one sub-command per job (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="movierec", description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="course directory")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_course_commands(sub)
    _add_grading_commands(sub)
    _add_insight_commands(sub)
    return parser


def run_release(root: Path, args: argparse.Namespace) -> int:
    course.release(root)
    return 0


def run_sample_class(root: Path, args: argparse.Namespace) -> int:
    for path in sample_class(root, args.assignment):
        print(f"wrote {path.relative_to(root)}")
    return 0


def run_validate(root: Path, args: argparse.Namespace) -> int:
    if not args.no_sandbox:
        try:
            check_available()
        except SandboxUnavailable as exc:
            print(exc, file=sys.stderr)
            return 2
    report = validate_notebook(args.notebook, sandbox=not args.no_sandbox)
    for line in report.text().splitlines():  # each line made safe, the lines kept apart
        print(terminal_safe(line))
    return 0 if report.ok else 1


def run_collect(root: Path, args: argparse.Namespace) -> int:
    try:
        findings = collect(root, args.assignment, args.zip.resolve(), fmt=args.fmt, mapping=args.mapping)
    except (CollectError, DeadlineError) as exc:
        print(terminal_safe(exc), file=sys.stderr)
        return 2
    print_findings(findings)
    source = re.sub(r"[^A-Za-z0-9._-]", "_", args.zip.stem)  # one report per download collected
    print(f"report: {write_report(findings, root / f'collect-report-{args.assignment}-{source}.csv')}")
    return 0


def run_autograde(root: Path, args: argparse.Namespace) -> int:
    sandbox = not args.no_sandbox
    try:
        if args.scheduler:
            findings = grade_on_cluster(
                root, args.assignment, args.scheduler, sandbox=sandbox, only=args.student
            )
        else:
            findings = autograde(root, args.assignment, jobs=args.jobs, sandbox=sandbox, only=args.student)
    except (SandboxUnavailable, DeadlineError) as exc:
        print(exc, file=sys.stderr)
        return 2
    report = write_report(findings, args.report or root / f"grading-report-{args.assignment}.csv")
    print_findings(findings)
    not_graded = sorted({f.student for f in findings if f.action.startswith(NOT_GRADED)})
    if not_graded:
        students = ", ".join(terminal_safe(s) for s in not_graded)
        print(
            f"NOT GRADED ({len(not_graded)}): {students}; "
            f"their submissions are as handed in; report: {report}",
            file=sys.stderr,
        )
        return 1
    print(f"graded {args.assignment}; report: {report}")
    print_summary(root, args.assignment)
    print(f"per check: movierec stats {args.assignment}")
    similarity_report(root, args.assignment, args.threshold)
    return 0


def print_summary(root: Path, assignment: str) -> None:
    """The class's item analysis in a few lines (the full one: ``movierec stats``)."""
    checks, results = class_results(root, assignment)
    for line in summary_lines(analyse(checks, results)):
        print(terminal_safe(line))


def run_stats(root: Path, args: argparse.Namespace) -> int:
    try:
        paths = write_stats(root, args.assignment, args.out)
    except FileNotFoundError as exc:
        print(terminal_safe(exc), file=sys.stderr)
        return 2
    print_summary(root, args.assignment)
    print(f"wrote {paths['csv']}, {paths['json'].name}, {paths['html'].name}")
    return 0


def run_similarity(root: Path, args: argparse.Namespace) -> int:
    similarity_report(root, args.assignment, args.threshold)
    return 0


def run_handout(root: Path, args: argparse.Namespace) -> int:
    built = build_handout(root, args.out.resolve(), through=args.through, due=args.due, track=args.track)
    withheld = ", ".join(built["withheld"]) or "none"
    print(f"wrote {args.out}: notebooks {', '.join(built['notebooks'])}; answers withheld: {withheld}")
    return 0


def run_feedback(root: Path, args: argparse.Namespace) -> int:
    feedback(root, args.assignment, hide_hidden_tests=not args.with_hidden_tests)
    return 0


def run_test_strength(root: Path, args: argparse.Namespace) -> int:
    return test_strength(root, args.assignments, root / args.out, args.min_score)


def run_grade_service(root: Path, args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # JupyterHub stops a service with SIGTERM
    try:
        hub_service.serve(hub_service.settings_from(root, args))
    except SandboxUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # or SIGINT; the journal keeps what was being graded
        return 0
    return 0


def run_export(root: Path, args: argparse.Namespace) -> int:
    print(f"wrote {export_lms(root, root / args.to, args.format, mapping=args.mapping)}")
    return 0


COMMANDS = {
    "release": run_release,
    "sample-class": run_sample_class,
    "validate": run_validate,
    "collect": run_collect,
    "autograde": run_autograde,
    "stats": run_stats,
    "similarity": run_similarity,
    "handout": run_handout,
    "feedback": run_feedback,
    "test-strength": run_test_strength,
    "export": run_export,
    "grade-service": run_grade_service,
}


def main(argv: list[str] | None = None) -> int:
    """Runs one ``movierec`` sub-command; returns its exit status."""
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args.course.resolve(), args)


if __name__ == "__main__":
    sys.exit(main())
