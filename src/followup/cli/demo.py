"""``followup demo``: the whole pipeline on the bundled sample mailbox over a simulated month.

No account and no network: the sample is a Maildir inside the package; the working copy and
state go to a temp dir (or ``--workdir``).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

#: The sample's story runs in New York from Monday 2 February to Tuesday 7 April 2026: across
#: Presidents' Day (16 Feb), the US DST change (8 Mar) and the European one (29 Mar).
DEMO_TZ = "America/New_York"
DEMO_START = "2026-02-02T00:00"
DEMO_END = "2026-04-07T00:00"
DEMO_SENDS_AFTER_HOURS = 3.0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="run the pipeline on a bundled sample mailbox (no account needed)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the working copy here")
    parser.add_argument("--drafts", type=int, default=3, help="how many drafts to print in full (default 3)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel

    from followup.cli.status import print_table, rows_for
    from followup.simulation import bundled_sample, load_notes, run_simulation

    console = Console(width=None if sys.stdout.isatty() else 130)
    tz = ZoneInfo(DEMO_TZ)
    start = datetime.fromisoformat(DEMO_START).replace(tzinfo=tz)
    end = datetime.fromisoformat(DEMO_END).replace(tzinfo=tz)
    console.print(Panel.fit(
        f"Sample mailbox: {bundled_sample()}\nSimulated clock: {start:%a %d %b %Y} to {end:%a %d %b %Y} "
        f"({DEMO_TZ}); the simulated user sends each draft {DEMO_SENDS_AFTER_HOURS:g} h after it appears.",
        title="interview-followup demo"))

    def show(event) -> None:
        local = event.at.astimezone(tz)
        data = event.data
        when = f"{local:%a %d %b %H:%M}"
        if event.action == "draft":
            to = data["to"] or "[no recipient: find the right contact]"
            subject = data["subject"] if len(data["subject"]) <= 60 else data["subject"][:57] + "..."
            console.print(f"{when}  [bold green]draft[/]  {data['application']:<30} {data['kind']:<15} "
                          f"to {to}  [dim]{escape(subject)}[/]", highlight=False)
        elif event.action == "stage":
            reason = data["cause"].split(":", 1)[0].replace("_", " ")
            console.print(f"{when}  [cyan]stage[/]  {data['application']:<30} {data['stage']:<15} "
                          f"[dim]{escape(reason)}[/]", highlight=False)
        else:
            kind = data["key"].split(".", 1)[0]
            console.print(f"{when}  [dim]sent   (the simulated user sent the {kind} draft)[/]", highlight=False)

    sim = run_simulation(bundled_sample(), start, end, tz=DEMO_TZ, country="US",
                         user_sends_after=DEMO_SENDS_AFTER_HOURS, workdir=args.workdir,
                         notes=load_notes(bundled_sample().parent / "notes.yaml"), on_event=show)
    shown = 0
    wanted = ["thank_you", "followup_1", "rejection_reply", "positive_reply", "followup_final"]
    for kind in wanted:
        if shown >= args.drafts:
            break
        for key, raw in sim.drafts.items():
            if f":{kind}" in key:
                message = email.message_from_bytes(raw, policy=email.policy.default)
                body = message.get_content() if not message.is_multipart() else message.get_body().get_content()
                header = f"To: {message['To'] or '(none)'}\nSubject: {message['Subject']}\n\n"
                console.print(Panel(header + body.strip(), title=f"{kind} draft", expand=False))
                shown += 1
                break
    print_table(rows_for(sim.store, tz=tz), console=console)
    drafts = sum(e.action == "draft" for e in sim.events)
    console.print(f"{drafts} drafts placed in {sim.workdir / 'mail' / '.Drafts'}; nothing was sent.")
    sim.store.close()
    return 0
