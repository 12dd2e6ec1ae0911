"""Writes JupyterLab's default settings for the course into the virtual environment.

No news feed, no "get notified about Jupyter news?" prompt and no update check: classrooms
are often offline, the page must make no request outside the lab server, and the prompt
covers the notebook on a student's first start. Written as the environment's
``share/jupyter/lab/settings/overrides.json``, so a student can still change them in
Settings; ``make lab`` also starts the server with the matching options.
"""

import json
import sys
from pathlib import Path

OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def main() -> None:
    path = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(path.read_text()) if path.exists() else {}
    for plugin, values in OVERRIDES.items():
        existing[plugin] = {**existing.get(plugin, {}), **values}
    path.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
