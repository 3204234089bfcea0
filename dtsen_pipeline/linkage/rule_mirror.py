"""Which blocking rule says, with its two sides swapped, what another rule (or itself) says.

An incremental night scores only the candidate pairs that have a touched record on a side
(`model.blocked_pairs_sql`). Joined naively, every rule is joined twice against every record:
once with the touched records as `l`, once as `r`. When a rule's mirror (the rule with `l` and
`r` swapped) is itself (`l."name_key" = r."name_key"`) or another rule of the model (a
NIK-missing key's two rules, one per side without a NIK), one join per rule with the touched
records on the left finds both: a pair found the other way round belongs to the mirror rule.

Rules are compared as SQL trees (sqlglot, which Splink reads them with), with the operands of
`=`, `<>`, AND and OR in a canonical order, so `l.x = r.x` mirrors into itself. Anything this
cannot show to be a mirror keeps its two joins: the pairs are the same either way.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

_SIDES = {"l": "r", "r": "l"}
_COMMUTATIVE = (exp.EQ, exp.NEQ)
_CHAINS = (exp.And, exp.Or)


def _swap_sides(tree: exp.Expression) -> exp.Expression:
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.table in _SIDES:
            return exp.column(node.this.copy(), table=_SIDES[node.table])
        return node
    return tree.copy().transform(swap)


def _operands(node: exp.Expression, kind: type[exp.Expression]) -> list[exp.Expression]:
    """The operands of a chain of one connective (a AND (b AND c): a, b, c), parentheses removed."""
    node = node.unnest()
    if isinstance(node, kind):
        return _operands(node.left, kind) + _operands(node.right, kind)
    return [node]


def canonical(tree: exp.Expression) -> str:
    """The SQL of `tree` with commutative operands in a fixed order: equal for equal conditions
    that differ only in the order of the operands of =, <>, AND and OR."""
    tree = tree.unnest()
    if isinstance(tree, _CHAINS):
        parts = sorted(canonical(part) for part in _operands(tree, type(tree)))
        return f"{type(tree).__name__.upper()}({', '.join(parts)})"
    if isinstance(tree, _COMMUTATIVE):
        sides = sorted((canonical(tree.left), canonical(tree.right)))
        return f"{type(tree).__name__.upper()}({sides[0]}, {sides[1]})"
    if not any(isinstance(child, exp.Expression) for child in tree.iter_expressions()):
        return tree.sql()
    rebuilt = tree.copy()
    for child in list(rebuilt.iter_expressions()):
        child.replace(exp.Var(this=canonical(child)))
    return rebuilt.sql()


def mirrors(rules: list[str], dialect: str) -> list[int | None]:
    """For each rule, the index of the rule that is it with `l` and `r` swapped (its own index for
    a symmetric rule), or None when none is shown to be (or a rule cannot be read)."""
    try:
        trees = [sqlglot.parse_one(rule, read=dialect) for rule in rules]
    except sqlglot.errors.ParseError:
        return [None] * len(rules)
    forms = [canonical(tree) for tree in trees]
    first_of = {}
    for index, form in enumerate(forms):
        first_of.setdefault(form, index)
    found: list[int | None] = []
    for index, tree in enumerate(trees):
        swapped = canonical(_swap_sides(tree))
        # a symmetric rule is its own mirror, also where the model states it twice
        found.append(index if swapped == forms[index] else first_of.get(swapped))
    return found
