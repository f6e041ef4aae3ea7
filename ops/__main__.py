"""`python -m ops serve|start|stop|status|render`: server mode from the command line.

`serve` starts everything and stays in the foreground until Ctrl-C or SIGTERM, then stops everything;
`start` leaves it running in the background (supervisord), `stop` ends it, `status` shows what runs.
"""
from __future__ import annotations

import argparse
import signal
import sys

from knowledge.settings import settings
from ops import serve
from ops.topology import Topology


def _stop_on_signal(topology: Topology) -> None:
    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("serve", "start", "stop", "status", "render"))
    args = parser.parse_args(argv)
    topology = Topology.from_settings(settings())
    if args.command == "render":
        topology.render()
        print(f"{topology.supervisord_conf}\n{topology.nginx_conf}")
        return 0
    if args.command == "status":
        print(serve.status(topology))
        return 0
    if args.command == "stop":
        serve.stop(topology)
        print("server mode stopped")
        return 0
    _stop_on_signal(topology)
    try:
        print(f"starting {topology.rasa_workers} Rasa and {topology.action_workers} action workers…", flush=True)
        serve.start(topology)
        print(
            f"\nGalaxy Assistant (server mode) is ready on {topology.public_url}\n"
            f"  REST:     POST {topology.public_url}/webhooks/rest/session, then /webhooks/rest/webhook\n"
            f"  Widget:   {topology.public_url}/widget/\n"
            f"  Partners: {topology.public_url}/introductions/…\n"
            f"  Status:   make status    Logs: {topology.logs}/",
            flush=True,
        )
        if args.command == "start":
            return 0
        print("Press Ctrl-C to stop.", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # noqa: BLE001 - say why, then stop what started
        print(f"server mode failed to start: {exc}", file=sys.stderr)
        serve.stop(topology)
        return 1
    print("\nstopping…", flush=True)
    serve.stop(topology)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
