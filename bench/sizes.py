"""The two data sets. Every figure is measured on both; ratios compare like with like."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    customers: int
    orders: int
    lines: int  # over `orders`; line 1 is the big line, alone on order 1
    teams: int
    tickets: int  # tickets 1..big_tickets bill the big line
    entries: int  # entries of the whole data set, the big line's among them
    big_entries: int  # time entries on the big line, none invoiced yet
    big_tickets: int
    run_orders: int  # orders of 100 unbilled entries a billing run invoices (issue 11), per run
    agents_per_team: int = 4

    @property
    def agents(self) -> int:
        return self.teams * self.agents_per_team


SMALL = Size("small", customers=20, orders=50, lines=200, teams=5, tickets=50, entries=1_000,
             big_entries=100, big_tickets=2, run_orders=10)
LARGE = Size("large", customers=500, orders=5_000, lines=20_000, teams=50, tickets=50_000, entries=1_000_000,
             big_entries=100_000, big_tickets=500, run_orders=1_000)
SIZES = {size.name: size for size in (SMALL, LARGE)}
