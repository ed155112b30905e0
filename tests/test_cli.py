"""End-to-end tests of the ``strong-lth`` command."""

from strong_lth import Ticket
from strong_lth.cli import main


def test_demo_prints_the_report_and_writes_the_plot_and_ticket(tmp_path, capsys):
    assert main(["demo", "--eps", "0.2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "certified <=" in out and "width_vs_error.png" in out
    assert (tmp_path / "width_vs_error.png").stat().st_size > 10_000
    ticket = Ticket.load(tmp_path / "ticket.npz")
    assert ticket.report["certified"] <= 0.2


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    assert main(["demo", "--eps", "-1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("strong-lth: `eps` must be in (0, inf)") and "\n" not in err
