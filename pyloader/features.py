"""The master file's features as sql/control/015_features_declared.sql
declares them, and the lists sql/tenant/ is written with.

The declaration is SQL (the view masterfile.declared_features) and is read
here from the same file, one entry per line, so that what follows from it is
written before any database has it: `pyloader migrate` puts, in place of each
`@features TEMPLATE@` of a file of sql/, TEMPLATE once per stored feature (a
column of the features table, computed by the C kernel), and in place of
each `@all_features TEMPLATE@` once per declared feature (a column of the
master_file view), joined by commas (one per line where the placeholder is
alone on its line, with the comma that may follow it); `@value NAME@` is the
value of one feature. In TEMPLATE, `{name}` is the column, `{type}` its SQL
type, `{kind}`, `{input}` and `{description}` SQL literals (or NULL),
`{param}` an integer or NULL, `{value}` its value in a row `f` of the
features table: the stored column, or for a kind derived from other features
of the same week (on_hand, on_order, cover, avg_price) its expression over
them, computed when the row is read and never stored.
tests/reference/features.py computes the same declaration by kind in pandas.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

DECLARATION = Path(__file__).resolve().parent / "sql" / "control" / "015_features_declared.sql"

# the weekly facts a feature reads (the kernel's input series)
INPUTS = ("units_sold", "units_returned", "revenue", "units_received", "units_ordered", "units_invoiced",
          "invoiced_amount")
# the series the stored weeks before a computation's start carry (the key
# index and the tails): trailing windows and lags read only these
WINDOW_INPUTS = ("units_sold", "revenue")
# features_lookback_weeks() and MAX_LOOKBACK of ext/masterfile_kernel.c
LOOKBACK = 51


@dataclasses.dataclass(frozen=True)
class Kind:
    input: bool  # takes an input series
    param: str | None  # what its parameter is: 'lag', 'span', 'window' (None: none)
    sql_type: str = "double precision"
    description: str | None = None  # the column's comment, from input and param
    # a kind derived from other features of the same week: its value in SQL
    # over the features it needs (`needs`, {0}, {1}...), computed when the
    # row is read; None: stored, computed by the C kernel
    read: str | None = None

    @property
    def stored(self) -> bool:
        return self.read is None


KINDS = {
    "fact": Kind(True, None),
    "lag": Kind(True, "lag", description="{input} of the week {param} week(s) before; null before the key's first week."),
    "ewm": Kind(True, "span", description="Exponentially weighted mean of {input}, span {param} (a = 2/(span+1), "
                                          "from the key's first week)."),
    "mean": Kind(True, "window", description="Mean of {input} over the trailing {param} weeks."),
    "std": Kind(True, "window", description="Sample standard deviation of {input} over the trailing {param} weeks; "
                                            "null under 2 weeks."),
    "max": Kind(True, "window", description="Maximum of {input} over the trailing {param} weeks."),
    "zero_share": Kind(True, "window", description="Share of the trailing {param} weeks whose {input} is 0."),
    "slope": Kind(True, "window", description="Least-squares slope of {input} per week over the trailing {param} "
                                              "weeks; null under 2 weeks."),
    "cumulative": Kind(True, None, description="Running sum of {input} from the key's first week through this one."),
    "year_to_date": Kind(True, None, description="Running sum of {input} over the key's weeks of the same calendar "
                                                 "year."),
    "weeks_since_first": Kind(True, None, "integer"),
    "weeks_since_last": Kind(True, None, "integer"),
    "on_hand": Kind(False, None, read="{0} - {1} + {2}"),
    "on_order": Kind(False, None, read="greatest(0, {0} - {1})"),
    "cover": Kind(True, "span", read="CASE WHEN {3} > 0 THEN ({0} - {1} + {2}) / {3} END"),
    # the trailing means share their window's length: their ratio is the sums'
    # (units sold are >= 0: their mean is 0 only when every week's is)
    "avg_price": Kind(False, "window", read="CASE WHEN {1} <> 0 THEN {0} / {1} END"),
    "last_unit_cost": Kind(False, None),
}
# what a derived kind reads of the same week: (kind, input, param) of other
# declared features, stored ones
NEEDS = {
    "on_hand": [("cumulative", "units_received", None), ("cumulative", "units_sold", None),
                ("cumulative", "units_returned", None)],
    "on_order": [("cumulative", "units_ordered", None), ("cumulative", "units_received", None)],
}


@dataclasses.dataclass(frozen=True)
class Feature:
    name: str
    kind: str
    input: str | None
    param: int | None
    description: str | None = None

    @property
    def sql_type(self) -> str:
        return KINDS[self.kind].sql_type

    @property
    def comment(self) -> str:
        if self.description is not None:
            return self.description
        return KINDS[self.kind].description.format(input=self.input, param=self.param)

    def needs(self) -> list[tuple[str, str | None, int | None]]:
        """(kind, input, param) of the features this one is computed from."""
        if self.kind == "cover":
            return NEEDS["on_hand"] + [("ewm", self.input, self.param)]
        if self.kind == "avg_price":
            return [("mean", "revenue", self.param), ("mean", "units_sold", self.param)]
        return NEEDS.get(self.kind, [])

    @property
    def stored(self) -> bool:
        return KINDS[self.kind].stored

    def value(self, features) -> str:
        """Its value in a row `f` of the features table: the column, or the
        expression over the stored features it needs (of `features`)."""
        read = KINDS[self.kind].read
        if read is None:
            return f"f.{self.name}"
        by_kind = {(g.kind, g.input, g.param): g.name for g in features}
        return read.format(*(f"f.{by_kind[need]}" for need in self.needs()))


_NAME = r"[a-z][a-z0-9_]*"
_TEXT = r"'(?:[^']|'')*'"
ENTRY = re.compile(
    rf"^\s*\('(?P<name>{_NAME})', '(?P<kind>[a-z_]+)', (?:'(?P<input>[a-z_]+)'|NULL), "
    rf"(?P<param>\d+|NULL)(?:::integer)?, (?P<description>{_TEXT}|NULL)\),?\s*$")


def parse(text: str, source: str = "the declaration") -> tuple[Feature, ...]:
    """The entries of the VALUES list of a declaration file, in order (checked: see check())."""
    start = text.index("FROM (VALUES\n") + len("FROM (VALUES\n")
    end = text.index("\n) AS d(", start)
    features = []
    for n, line in enumerate(text[start:end].splitlines(), text[:start].count("\n") + 1):
        if not line.strip() or line.strip().startswith("--"):
            continue
        m = ENTRY.match(line)
        if m is None:
            raise ValueError(f"{source}, line {n}: not an entry of the form "
                             f"('name', 'kind', 'input' or NULL, param or NULL, 'description' or NULL): {line.strip()}")
        d = m["description"]
        features.append(Feature(m["name"], m["kind"], m["input"], None if m["param"] == "NULL" else int(m["param"]),
                                None if d == "NULL" else d[1:-1].replace("''", "'")))
    check(features)
    return tuple(features)


def check(features) -> None:
    """Refuse what the kernel cannot compute: an unknown kind or input, a
    missing or extra parameter, a window or lag beyond the stored weeks, a
    derived feature whose inputs are not declared, a name twice."""
    names = set()
    for f in features:
        where = f"feature {f.name}"
        if f.name in names or f.name in ("product_id", "location_id", "week_start", "week_index"):
            raise ValueError(f"{where}: the name is taken")
        names.add(f.name)
        kind = KINDS.get(f.kind)
        if kind is None:
            raise ValueError(f"{where}: unknown kind {f.kind!r} (one of {', '.join(KINDS)})")
        if kind.input != (f.input is not None) or (f.input is not None and f.input not in INPUTS):
            raise ValueError(f"{where}: kind {f.kind} takes " + (f"an input, one of {', '.join(INPUTS)}"
                                                                 if kind.input else "no input"))
        if (kind.param is None) != (f.param is None) or (f.param is not None and f.param < 1):
            raise ValueError(f"{where}: kind {f.kind} takes " + (f"a {kind.param} >= 1" if kind.param else "no parameter"))
        if kind.param in ("lag", "window") and f.input is not None and f.input not in WINDOW_INPUTS:
            raise ValueError(f"{where}: trailing windows and lags read {' or '.join(WINDOW_INPUTS)} only "
                             "(the series the stored weeks before a computation's start carry)")
        if (kind.param == "lag" and f.param > LOOKBACK) or (kind.param == "window" and f.param > LOOKBACK + 1):
            raise ValueError(f"{where}: reaches {f.param - (kind.param == 'window')} weeks back, "
                             f"at most {LOOKBACK} are read (features_lookback_weeks())")
        if f.description is None and kind.description is None:
            raise ValueError(f"{where}: kind {f.kind} needs a description")
    declared = {(f.kind, f.input, f.param) for f in features if f.stored}
    for f in features:
        for need in f.needs():
            if need not in declared:
                raise ValueError(f"feature {f.name}: needs a declared feature of kind {need[0]}, input {need[1]}"
                                 + (f", param {need[2]}" if need[2] is not None else ""))
    for fact in WINDOW_INPUTS:
        if ("fact", fact, None) not in declared:
            raise ValueError(f"the fact {fact} must be declared (the key's tails keep it)")


@functools.cache
def declared(path: Path = DECLARATION) -> tuple[Feature, ...]:
    """The features of the declaration file, in order."""
    return parse(path.read_text(), path.name)


def stored(features=None) -> tuple[Feature, ...]:
    """The declared features the features table stores (the kernel's), in order."""
    return tuple(f for f in (declared() if features is None else features) if f.stored)


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def render(template: str, feature: Feature, features) -> str:
    return template.format(name=feature.name, type=feature.sql_type, kind=_literal(feature.kind),
                           input=_literal(feature.input), param=_literal(feature.param),
                           description=_literal(feature.comment), value=feature.value(features))


PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)@(?P<lset>features|all_features) (?P<line>[^@\n]+)@(?P<comma>,?)[ \t]*$"
                         r"|@(?P<iset>features|all_features) (?P<inline>[^@\n]+)@", re.MULTILINE)
VALUE = re.compile(r"@value (?P<name>[a-z][a-z0-9_]*)@")


def expand(text: str, features=None) -> str:
    """`text` with every `@features TEMPLATE@` replaced by TEMPLATE for each
    stored feature, every `@all_features TEMPLATE@` for each declared one
    (comma-separated) and every `@value NAME@` by that feature's value."""
    features = declared() if features is None else features
    by_name = {f.name: f for f in features}

    def one(m: re.Match) -> str:
        chosen = features if (m["lset"] or m["iset"]) == "all_features" else stored(features)
        if m["line"] is not None:
            return ",\n".join(m["indent"] + render(m["line"], f, features) for f in chosen) + m["comma"]
        return ", ".join(render(m["inline"], f, features) for f in chosen)

    def value(m: re.Match) -> str:
        if m["name"] not in by_name:
            raise ValueError(f"@value {m['name']}@: no such declared feature")
        return by_name[m["name"]].value(features)

    return VALUE.sub(value, PLACEHOLDER.sub(one, text))


def column_migration(missing: list[Feature], extra: list[str]) -> str:
    """What a tenant migration must do for the declaration and the table to agree (its upgrade's body)."""
    from pyloader import queries  # its statements are named there, as every other

    def op_line(statement: str) -> str:
        return f"op.execute({statement!r})"

    lines = []
    if missing:
        adds = ", ".join(queries.FEATURE_MIGRATION_ADD_COLUMN.format(name=f.name, type=f.sql_type) for f in missing)
        lines += [
            "# the ALTER waits for a batch writing the table, and readers would queue behind it:",
            "# give up instead (migrate names the tenant, left as it was; run it again)",
            op_line(queries.FEATURE_MIGRATION_LOCK_TIMEOUT),
            "# a nullable column without a default: a change of the catalog only, whatever the table's size",
            op_line(queries.FEATURE_MIGRATION_ALTER_TABLE.format(columns=adds)),
            "# the view names its columns in the declaration's order; the reload makes it again",
            op_line(queries.FEATURE_MIGRATION_DROP_VIEW),
            "# every key, from its first week, through the queue: the pipeline fills the column",
            "# batch by batch while the tenant serves (a null until its key's turn)",
            op_line(queries.FEATURE_MIGRATION_QUEUE_EVERY_KEY),
        ]
    if extra:
        drops = ", ".join(queries.FEATURE_MIGRATION_DROP_COLUMN.format(name=c) for c in extra)
        lines += [op_line(queries.FEATURE_MIGRATION_DROP_VIEW),
                  op_line(queries.FEATURE_MIGRATION_ALTER_TABLE.format(columns=drops))]
    return "\n".join(lines)


def disagreement(columns: dict[str, str], features=None) -> str | None:
    """None when the features table's columns (name: SQL type, after its key
    and week) are the declared ones; else what is wrong and the migration to write."""
    features = stored(features)
    want = {f.name: f.sql_type for f in features}
    missing = [f for f in features if f.name not in columns]
    extra = [c for c in columns if c not in want]
    wrong = [f"{c} is {t}, declared {want[c]}" for c, t in columns.items() if c in want and want[c] != t]
    if not (missing or extra or wrong):
        return None
    parts = []
    if missing:
        parts.append("declared but not in the table: " + ", ".join(f.name for f in missing))
    if extra:
        parts.append("in the table but not declared: " + ", ".join(extra))
    if wrong:
        parts.append("; ".join(wrong))
    return ("the features table and sql/control/015_features_declared.sql disagree (" + "; ".join(parts)
            + "). Write a tenant migration (migrations/tenant/versions/, the next revision) whose upgrade runs:\n"
            + column_migration(missing, extra))
