"""Guarded clustering: connected components that refuse merges a register cannot afford.

Plain connected components let one false edge join two families (and then chains of them).
Here edges are taken strongest first, and an edge that would merge two groups is refused when
the groups disagree on something a person cannot change (two valid NIKs far apart, a known
"not a duplicate" decision), or disagrees softly (NIKs one typing error apart: one digit, or two
adjacent digits swapped; sex; birth years) without
overwhelming evidence, or when the result would be implausibly large. Verified duplicates
(must-link) are merged first, whatever the scores say.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dtsen_pipeline.domain.id_edits import edit_positions, is_typo_apart
from dtsen_pipeline.int_sets import isin

NIK_REGION_DIGITS = 6  # province, kabupaten, kecamatan: where the NIK was issued
CIVIL_REGISTRY_FEED = "dukcapil"  # the NIKs it carries were issued to the people it lists

# The name comparison's gamma for "exact" (5) and "Jaro-Winkler >= 0.94" (4): see model.name_comparison.
NAME_GAMMA = "gamma_name_key"
STRONG_NAME_GAMMA = 4
EXACT_NAME_GAMMA = 5
CONTAINED_NAME_GAMMA = 3  # one name contains the other
LOOSE_NAME_GAMMA = 1  # Jaro-Winkler >= 0.82
# The birth-date comparison's gammas from "one character apart" (3) up to "exact date" (6); -1: a
# side has no birth date (programme lists carry none).
DOB_GAMMA = "gamma_dob"
SAME_DATE_GAMMA = 3
SAME_DAY_GAMMA = 5  # the same date (a registry default date included)
SAME_YEAR_GAMMA = 2
UNKNOWN_DATE_GAMMA = -1  # Splink's null level: the same for every comparison
NIK_GAMMA = "gamma_nik"
EXACT_ID_GAMMA = 4  # model.identifier_comparison: exact (4), 15 digits (3), one digit (2), swapped (1), else (0)
PREFIX_ID_GAMMA = 3
ONE_DIGIT_ID_GAMMA = 2
SWAPPED_ID_GAMMA = 1
KK_GAMMA = "gamma_no_kk"


@dataclass(frozen=True)
class ClusterGuards:
    """Limits on what one cluster (one person) may contain."""

    max_cluster_size: int = 15
    # Edges at least this strong (Splink match weight, log2 Bayes factor) may join groups that
    # disagree softly; weaker ones may not.
    overwhelming_weight: float = 22.0
    # NIKs one typing error apart (a digit, or two adjacent digits swapped) are a typo when names
    # and birth dates agree and the rest of the evidence is good; otherwise they are usually two
    # people (twins: sequence 0001 and 0002; a brother and sister born the same day: the day
    # digit differs by 4), however strong the rest of the evidence, since twins share card,
    # village, address and birth date.
    near_miss_min_weight: float = 8.0
    max_birth_year_spread: int = 1
    # An edge on which no identifier and no birth date can be compared (a programme-list row
    # whose NIK and No. KK a spreadsheet destroyed) rests on name, village and address alone. In
    # one dusun two people often share a name (DEWI, HALIMAH): such an edge joins only when the
    # names agree (not one merely containing the other) and this weight is reached; otherwise
    # the record stays its own golden person and the pair goes to clerical review.
    thin_evidence_min_weight: float = 0.0
    # Name gammas at or below this (1: Jaro-Winkler 0.82 at best, no shared token) are different
    # names: without the same NIK such an edge is a relative (same card, address, village). With
    # the same NIK it is one person only on strong other evidence: a NIK mistyped into another
    # person's NIK, or lent to someone, agrees exactly too. One exception: a programme-list row
    # whose NIK Excel cut to 15 digits, on the same No. KK, where those 15 digits belong to one
    # known NIK only: the only other person they could be is a twin (sequence 0001 and 0002), and
    # no twin is on record. A loosely similar name (gamma 1) is then a typo, not a relative.
    name_conflict_max_gamma: int = 1
    name_conflict_same_nik_min_weight: float = 10.0


@dataclass
class _Group:
    members: list[int]
    niks: set[str]
    sexes: set[str]
    years: tuple[int, int] | None
    forbidden: set[int] = field(default_factory=set)  # records this group must never contain


def _years(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), max(a[1], b[1]))


class GuardedClusterer:
    """Union-find over record indices with per-group evidence."""

    def __init__(self, records: pd.DataFrame, guards: ClusterGuards) -> None:
        self.guards = guards
        self.parent = np.arange(len(records))
        nik = records["nik"].astype("object").where(records["nik"].notna(), None).to_numpy()
        sex = records["jenis_kelamin"].astype("object").where(records["jenis_kelamin"].notna(), None).to_numpy()
        precise = ~records["dob_imprecise"].fillna(False).astype(bool).to_numpy()
        year = records["dob_year"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        self.groups: dict[int, _Group] = {}
        for i in range(len(records)):
            y = year[i]
            self.groups[i] = _Group(
                members=[i],
                niks={nik[i]} if nik[i] else set(),
                sexes={sex[i]} if sex[i] else set(),
                years=(int(y), int(y)) if (y == y and precise[i]) else None,
            )
        # NIKs whose region code is the kecamatan of a record carrying them (issued there).
        kecamatan = (records["kode_kecamatan"].astype("str").str.replace(".", "", regex=False).to_numpy()
                     if "kode_kecamatan" in records else np.full(len(records), None))
        self.issued_here = {n for n, k in zip(nik, kecamatan, strict=True) if n and k and n[:NIK_REGION_DIGITS] == k}
        feed = records["feed"].astype("str").to_numpy() if "feed" in records else np.full(len(records), "")
        self.registered = {n for n, f in zip(nik, feed, strict=True) if n and f == CIVIL_REGISTRY_FEED}
        self.refused: Counter[str] = Counter()
        self.refused_edges: list[tuple[int, int, str]] = []  # (record index, record index, reason)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def forbid(self, a: int, b: int) -> None:
        """Records a and b must never share a cluster (a confirmed non-duplicate)."""
        self.groups[self.find(a)].forbidden.add(b)
        self.groups[self.find(b)].forbidden.add(a)

    def _spans_forbidden(self, ra: int, rb: int) -> bool:
        ga, gb = self.groups[ra], self.groups[rb]
        return any(self.find(f) == rb for f in ga.forbidden) or any(self.find(f) == ra for f in gb.forbidden)

    def refusal(self, ra: int, rb: int, weight: float, same_person_details: bool = False) -> str | None:
        """Why the groups of ra and rb may not merge on an edge of this weight (None: they may)."""
        ga, gb = self.groups[ra], self.groups[rb]
        if self._spans_forbidden(ra, rb):
            return "CANNOT_LINK"
        if len(ga.members) + len(gb.members) > self.guards.max_cluster_size:
            return "OVERSIZE"
        strong = weight >= self.guards.overwhelming_weight
        if ga.niks and gb.niks and not (ga.niks & gb.niks):
            if not any(self._typo_apart(a, b) for a in ga.niks for b in gb.niks):
                return "NIK_CONFLICT"
            if not (same_person_details and weight >= self.guards.near_miss_min_weight):
                return "NIK_NEAR_MISS"
        if ga.sexes and gb.sexes and not (ga.sexes & gb.sexes) and not strong:
            return "SEX_CONFLICT"
        years = _years(ga.years, gb.years)
        if years and years[1] - years[0] > self.guards.max_birth_year_spread and not strong:
            return "BIRTH_YEAR_CONFLICT"
        return None

    def _typo_apart(self, a: str, b: str) -> bool:
        """One typing error apart, unless both NIKs are on the civil registry (two people born the
        same day in one kecamatan get consecutive sequence numbers, 0001 and 0002), or the
        difference is in the region code and each NIK was issued where its records live (two
        namesakes born the same day in two kecamatan): those are two people, not a typo."""
        if not is_typo_apart(a, b):
            return False
        if a in self.registered and b in self.registered:
            return False
        in_region = max(edit_positions(a, b)) < NIK_REGION_DIGITS
        return not (in_region and a in self.issued_here and b in self.issued_here)

    def union(self, ra: int, rb: int) -> None:
        ga, gb = self.groups[ra], self.groups[rb]
        if len(ga.members) < len(gb.members):
            ra, rb, ga, gb = rb, ra, gb, ga
        self.parent[rb] = ra
        ga.members.extend(gb.members)
        ga.niks |= gb.niks
        ga.sexes |= gb.sexes
        ga.years = _years(ga.years, gb.years)
        ga.forbidden |= gb.forbidden
        del self.groups[rb]

    def link(self, a: int, b: int, weight: float, forced: bool = False, same_person_details: bool = False) -> bool:
        """Merge the groups of a and b unless a guard refuses. `same_person_details`: the edge's
        names and birth dates agree, or its mistyped NIK can be no other member of the family
        (what lets NIKs one typing error apart be one person)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if forced:
            if self._spans_forbidden(ra, rb):
                self.refused["MUST_LINK_CONFLICTS_CANNOT_LINK"] += 1
                return False
            self.union(ra, rb)
            return True
        reason = self.refusal(ra, rb, weight, same_person_details)
        if reason:
            self.refused[reason] += 1
            self.refused_edges.append((a, b, reason))
            return False
        self.union(ra, rb)
        return True


def _pair_positions(ids: pa.Array, *frames: pd.DataFrame | None) -> list[np.ndarray]:
    """Per frame of pairs (unique_id_l, unique_id_r): the (n, 2) row positions of its records, -1
    where an id is unknown. One vectorised hash lookup in Arrow for all of them: the hash table of
    the ids is built once, and a pandas index lookup on Arrow strings costs several times more.
    The ids looked up are one contiguous array: Arrow builds the table again for each chunk of a
    chunked input, and pairs read from the warehouse come in dozens of chunks (3 s instead of 1.2 s
    for a night's 2.2 million pairs)."""
    frames_ = [f if f is not None else pd.DataFrame({"unique_id_l": [], "unique_id_r": []}) for f in frames]
    columns = [pa.array(f[side], from_pandas=True, type=ids.type) if len(f) else pa.array([], type=ids.type)
               for f in frames_ for side in ("unique_id_l", "unique_id_r")]
    chunks = [chunk for column in columns
              for chunk in (column.chunks if isinstance(column, pa.ChunkedArray) else [column])]
    found = pc.index_in(pa.concat_arrays(chunks) if chunks else pa.array([], type=ids.type), value_set=ids)
    found = found.fill_null(-1).to_numpy().astype(np.int64)
    out, start = [], 0
    for frame in frames_:
        n = len(frame)
        out.append(np.column_stack([found[start:start + n], found[start + n:start + 2 * n]]))
        start += 2 * n
    return out


def _known(pairs: np.ndarray) -> np.ndarray:
    """The pairs whose two records are both known."""
    return pairs[(pairs >= 0).all(axis=1)] if len(pairs) else np.empty((0, 2), dtype=np.int64)


def _components(n: int, edges: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _suspect_components(records: pd.DataFrame, labels: np.ndarray, guards: ClusterGuards,
                        cannot: np.ndarray) -> np.ndarray:
    """Components that plain connected components may not be trusted with (vectorised)."""
    frame = pd.DataFrame({
        "label": labels,
        "nik": records["nik"].to_numpy(),
        "sex": records["jenis_kelamin"].to_numpy(),
        "year": records["dob_year"].astype("Float64").where(~records["dob_imprecise"].fillna(False).astype(bool))
        .to_numpy(dtype="float64", na_value=np.nan),
    })
    grouped = frame.groupby("label")
    suspect = (
        (grouped.size() > guards.max_cluster_size)
        | (grouped["nik"].nunique() > 1)
        | (grouped["sex"].nunique() > 1)
        | ((grouped["year"].max() - grouped["year"].min()) > guards.max_birth_year_spread)
    )
    labels_out = set(suspect[suspect].index)
    if len(cannot):
        same = labels[cannot[:, 0]] == labels[cannot[:, 1]]
        labels_out |= set(labels[cannot[same, 0]].tolist())
    return np.array(sorted(labels_out), dtype=labels.dtype)


def edge_refusals(edges: pd.DataFrame, guards: ClusterGuards, sole_prefix: np.ndarray | None = None) -> pd.Series:
    """Why a scored edge may not join two records whatever their groups hold (None: it may).

    NAME_CONFLICT: the names do not resemble each other and the NIKs are not the same: a card,
    an address and a village are shared by a whole family. THIN_EVIDENCE: no NIK, No. KK or
    birth date to compare: nothing but name, village and address, and too little of that.
    `sole_prefix` (per edge, see `_sole_prefix_holder`): a NIK cut to 15 digits that only one
    member of the edge's family holds."""
    reasons = pd.Series(None, index=edges.index, dtype="object")
    identity = (NIK_GAMMA, KK_GAMMA, DOB_GAMMA)
    if not all(c in edges for c in (*identity, NAME_GAMMA)):
        return reasons
    name, weight = edges[NAME_GAMMA].to_numpy(), edges["match_weight"].to_numpy()
    nik = edges[NIK_GAMMA].to_numpy()
    thin = _thin(edges)
    sure = (name >= EXACT_NAME_GAMMA) & (weight >= guards.thin_evidence_min_weight)
    reasons[thin & ~sure] = "THIN_EVIDENCE"
    vouched = (nik == EXACT_ID_GAMMA) & (weight >= guards.name_conflict_same_nik_min_weight)
    if sole_prefix is not None:
        vouched |= (name >= LOOSE_NAME_GAMMA) & sole_prefix
    reasons[(name <= guards.name_conflict_max_gamma) & ~vouched] = "NAME_CONFLICT"
    return reasons


def _registry_families(records: pd.DataFrame, edges: pd.DataFrame, positions: np.ndarray) -> dict[str, set[str]]:
    """The NIKs the civil registry lists on each No. KK that a family guard may ask about: the
    cards of the edges whose No. KK agree and whose NIKs agree on 15 digits or are one typing
    error apart (looked up once, for both guards)."""
    if not all(c in records for c in ("nik", "no_kk", "feed")) or not all(c in edges for c in (NIK_GAMMA, KK_GAMMA)):
        return {}
    asked = (edges[KK_GAMMA].to_numpy() == EXACT_ID_GAMMA) & np.isin(
        edges[NIK_GAMMA].to_numpy(), (PREFIX_ID_GAMMA, ONE_DIGIT_ID_GAMMA, SWAPPED_ID_GAMMA))
    asked &= (positions >= 0).all(axis=1)
    # Only the rows asked about become Python strings: all 1.8 million No. KK of a regency, twice,
    # held about 0.25 GB at the linkage step's peak.
    cards = records["no_kk"].take(positions[asked, 0]).unique()
    on_registry = ((records["feed"] == CIVIL_REGISTRY_FEED) & records["nik"].notna()
                   & records["no_kk"].isin(cards)).to_numpy()
    families: dict[str, set[str]] = {}
    for card, nik in zip(records.loc[on_registry, "no_kk"].to_numpy(dtype=object),
                         records.loc[on_registry, "nik"].to_numpy(dtype=object), strict=True):
        families.setdefault(card, set()).add(nik)
    return families


def _sole_prefix_holder(records: pd.DataFrame, edges: pd.DataFrame, positions: np.ndarray,
                        families: Mapping[str, set[str]]) -> np.ndarray:
    """Per edge (with the row positions of its two records): a NIK cut to 15 digits on the same
    No. KK, whose 15 digits belong to exactly one member of that family on the civil registry.
    People born the same day in one kecamatan share them (sequence 0001, 0002...); in one family
    that is twins, and the registry lists both."""
    out = np.zeros(len(edges), dtype=bool)
    if "nik_prefix15" not in records or not all(c in edges for c in (NIK_GAMMA, KK_GAMMA)):
        return out
    candidate = (((edges[NIK_GAMMA] == PREFIX_ID_GAMMA) & (edges[KK_GAMMA] == EXACT_ID_GAMMA)).to_numpy()
                 & (positions >= 0).all(axis=1))
    if not candidate.any():
        return out
    prefix, card = records["nik_prefix15"].to_numpy(dtype=object), records["no_kk"].to_numpy(dtype=object)
    left, right = positions[candidate, 0], positions[candidate, 1]
    out[candidate] = [sum(m[:15] == p for m in families.get(c, ())) == 1
                      for p, c in zip(np.where(pd.isna(prefix[left]), prefix[right], prefix[left]),
                                      card[left], strict=True)]
    return out


def _year_only(records: pd.DataFrame) -> np.ndarray:
    """Per record: the birth date is known to the year only (a partial date, `dob` null)."""
    if "dob" not in records or "dob_year" not in records:
        return np.zeros(len(records), dtype=bool)
    return (records["dob"].isna() & records["dob_year"].notna()).to_numpy()


def _details_agree(edges: pd.DataFrame, year_only: np.ndarray | None = None) -> np.ndarray:
    """Per scored edge: names agree (exact or nearly) and birth dates agree (up to a typo), or one
    name contains the other (a dropped token) and the dates are the same; where a side has no
    birth date, or only its year and that year agrees (`year_only`, per edge), the names must be
    identical instead: a partial date says no less than a missing one."""
    if NAME_GAMMA not in edges or DOB_GAMMA not in edges:
        return np.zeros(len(edges), dtype=bool)
    name, dob = edges[NAME_GAMMA].to_numpy(), edges[DOB_GAMMA].to_numpy()
    partial = np.zeros(len(edges), dtype=bool) if year_only is None else year_only
    dated = (name >= STRONG_NAME_GAMMA) & (dob >= SAME_DATE_GAMMA)
    shortened = (name == CONTAINED_NAME_GAMMA) & (dob >= SAME_DAY_GAMMA)
    undated = (name >= EXACT_NAME_GAMMA) & ((dob == UNKNOWN_DATE_GAMMA) | ((dob == SAME_YEAR_GAMMA) & partial))
    return dated | shortened | undated


def _sole_typo_neighbour(records: pd.DataFrame, edges: pd.DataFrame, left: np.ndarray,
                         right: np.ndarray, families: Mapping[str, set[str]]) -> np.ndarray:
    """Per edge: NIKs one typing error apart on one No. KK, names alike (one containing the other
    at least), where one NIK is on the civil registry in that family and the other is not, and
    the registry lists no other member of the family within one typing error of it. Twins'
    NIKs are one digit apart (0001, 0002): a mistyped NIK near both is left to the names and
    dates; one near only one family member can be no one else."""
    out = np.zeros(len(edges), dtype=bool)
    if not all(c in edges for c in (NIK_GAMMA, KK_GAMMA, NAME_GAMMA)):
        return out
    candidate = (edges[NIK_GAMMA].isin([ONE_DIGIT_ID_GAMMA, SWAPPED_ID_GAMMA]) & (edges[KK_GAMMA] == EXACT_ID_GAMMA)
                 & (edges[NAME_GAMMA] >= CONTAINED_NAME_GAMMA)).to_numpy()
    if not candidate.any():
        return out
    nik, card = records["nik"].to_numpy(dtype=object), records["no_kk"].to_numpy(dtype=object)
    for i in np.flatnonzero(candidate):
        a, b = nik[left[i]], nik[right[i]]
        members = families.get(card[left[i]], set())
        if (a in members) == (b in members):
            continue
        known, typed = (a, b) if a in members else (b, a)
        out[i] = [m for m in members if is_typo_apart(m, typed)] == [known]
    return out


def _thin(edges: pd.DataFrame) -> np.ndarray:
    """Edges on which no NIK, No. KK or birth date could be compared."""
    identity = (NIK_GAMMA, KK_GAMMA, DOB_GAMMA)
    if not all(c in edges for c in identity):
        return np.zeros(len(edges), dtype=bool)
    return np.logical_and.reduce([edges[c].to_numpy() == UNKNOWN_DATE_GAMMA for c in identity])


def _ambiguous_thin_edges(records: pd.DataFrame, edges: pd.DataFrame, positions: np.ndarray,
                          must: np.ndarray) -> np.ndarray:
    """Per edge: a thin edge (name, village and address only) of a record whose thin edges reach
    two or more identified people (groups holding a NIK or a birth date). A programme-list row
    "SUTRISNO, Dusun II" next to two SUTRISNOs of that dusun may be either: joined to both, it
    would make one golden person of two. Such edges are refused and go to clerical review; the
    row stays its own golden person until a facilitator decides."""
    thin = _thin(edges)
    if not thin.any():
        return thin
    labels = _components(len(records), np.vstack([positions[~thin], must]))
    identified_record = (records["nik"].notna() | records["dob_year"].notna()).to_numpy()
    identified = np.zeros(labels.max() + 1, dtype=bool)
    np.logical_or.at(identified, labels, identified_record)
    a, b = positions[thin, 0], positions[thin, 1]
    reach = pd.DataFrame({"record": np.concatenate([a, b]), "other": labels[np.concatenate([b, a])]})
    reach = reach[identified[reach["other"]] & (reach["other"] != labels[reach["record"]])]
    people = reach.drop_duplicates().groupby("record").size()
    torn = np.zeros(len(records), dtype=bool)
    torn[people.index[people >= 2].to_numpy()] = True
    out = np.zeros(len(edges), dtype=bool)
    out[np.flatnonzero(thin)] = torn[a] | torn[b]
    return out


@dataclass(frozen=True)
class ClusteringResult:
    clusters: pd.DataFrame  # unique_id, cluster_id
    refused: dict[str, int]  # refused edges by reason
    refused_edges: pd.DataFrame  # unique_id_l, unique_id_r, reason: candidates for clerical review


def guarded_clusters(
    records: pd.DataFrame,
    pairs: pd.DataFrame,
    threshold: float,
    guards: ClusterGuards | None = None,
    must_link: pd.DataFrame | None = None,
    cannot_link: pd.DataFrame | None = None,
) -> ClusteringResult:
    """Cluster `records` from scored `pairs` (unique_id_l, unique_id_r, match_weight, match_probability).

    `must_link` / `cannot_link`: frames of unique_id_l, unique_id_r from verified decisions.
    Connected components without any sign of conflict are taken as they are (vectorised); only
    the suspect ones are rebuilt edge by edge with the guards.
    """
    guards = guards or ClusterGuards()
    records = records.reset_index(drop=True)
    ids = pa.array(records["unique_id"].astype("str"), from_pandas=True)
    # Ties between edges of equal weight are broken by the records' ids, not their positions, so
    # the clusters do not depend on the order the records arrive in.
    id_rank = np.empty(len(ids), dtype=np.int64)
    id_rank[pc.sort_indices(ids).to_numpy()] = np.arange(len(ids))
    above = (pairs["match_probability"] >= threshold).to_numpy()
    scored, must, cannot = _pair_positions(ids, pairs, must_link, cannot_link)
    must, cannot = _known(must), _known(cannot)
    # Edges as record positions and scores only: the two id columns are not copied along.
    strong = pairs.loc[above, [c for c in pairs.columns if c not in ("unique_id_l", "unique_id_r")]]
    scored = scored[above]
    families = _registry_families(records, strong, scored)
    edge_reasons = edge_refusals(strong, guards, _sole_prefix_holder(records, strong, scored, families))
    refused_here = edge_reasons.notna().to_numpy()
    edge_refused = [(scored[refused_here], edge_reasons[refused_here].to_numpy())]
    strong, scored = strong[~refused_here], scored[~refused_here]
    ambiguous = _ambiguous_thin_edges(records, strong, scored, must)
    if ambiguous.any():
        edge_refused.append((scored[ambiguous], np.full(int(ambiguous.sum()), "AMBIGUOUS_NAMESAKE", dtype=object)))
        strong, scored = strong[~ambiguous], scored[~ambiguous]
    labels = _components(len(records), np.vstack([scored, must]))
    suspect = _suspect_components(records, labels, guards, cannot)
    in_suspect = isin(labels, suspect)

    final = labels.astype(np.int64)
    refused: Counter[str] = Counter()
    guard_refused: tuple[np.ndarray, np.ndarray] = (np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=object))
    if in_suspect.any():
        subset = np.flatnonzero(in_suspect)
        local = np.full(len(records), -1, dtype=np.int64)
        local[subset] = np.arange(len(subset))
        clusterer = GuardedClusterer(records.iloc[subset].reset_index(drop=True), guards)

        def localise(pairs_idx: np.ndarray) -> np.ndarray:
            keep = in_suspect[pairs_idx[:, 0]] & in_suspect[pairs_idx[:, 1]] if len(pairs_idx) else []
            return local[pairs_idx[keep]] if len(pairs_idx) else np.empty((0, 2), dtype=np.int64)

        for a, b in localise(cannot):
            clusterer.forbid(int(a), int(b))
        for a, b in localise(must):
            clusterer.link(int(a), int(b), float("inf"), forced=True)
        inside = in_suspect[scored[:, 0]]
        sub_edges, sub_scored = strong[inside], scored[inside]
        order = np.lexsort((id_rank[sub_scored[:, 1]], id_rank[sub_scored[:, 0]],
                            -sub_edges["match_weight"].to_numpy()))
        sub_edges, sub_scored = sub_edges.iloc[order], sub_scored[order]
        year_only = _year_only(records)
        left, right = sub_scored[:, 0], sub_scored[:, 1]
        agree = _details_agree(sub_edges, year_only[left] | year_only[right])
        agree |= _sole_typo_neighbour(records, sub_edges, left, right, families)
        for a, b, w, details in zip(local[left].tolist(), local[right].tolist(),
                                    sub_edges["match_weight"].to_numpy().tolist(), agree.tolist(), strict=True):
            clusterer.link(a, b, w, same_person_details=details)
        roots = np.array([clusterer.find(k) for k in range(len(subset))])
        final[subset] = labels.max() + 1 + roots
        refused = clusterer.refused
        guard_refused = (np.array([(subset[a], subset[b]) for a, b, _ in clusterer.refused_edges],
                                  dtype=np.int64).reshape(-1, 2),
                         np.array([r for _, _, r in clusterer.refused_edges], dtype=object))

    for _, reasons in edge_refused:
        refused.update(Counter(reasons.tolist()))
    refused_pairs = np.vstack([p for p, _ in (guard_refused, *edge_refused)])
    reasons = np.concatenate([r for _, r in (guard_refused, *edge_refused)])
    refused_edges = pd.DataFrame({"unique_id_l": _ids_at(ids, refused_pairs[:, 0]),
                                  "unique_id_r": _ids_at(ids, refused_pairs[:, 1]),
                                  "reason": pd.Series(reasons, dtype="str")})
    # A cluster is named by its smallest record id: deterministic for the same input.
    smallest = pd.Series(id_rank).groupby(final).transform("min").to_numpy()
    by_rank = np.empty(len(ids), dtype=np.int64)
    by_rank[id_rank] = np.arange(len(ids))
    frame = pd.DataFrame({"unique_id": records["unique_id"].astype("str"),
                          "cluster_id": _ids_at(ids, by_rank[smallest])})
    return ClusteringResult(frame, dict(refused), refused_edges)


def _ids_at(ids: pa.Array, positions: np.ndarray) -> pd.Series:
    """The record ids at `positions`, taken in Arrow: as Python objects, a regency's 1.8 million ids
    held about 0.15 GB at the linkage step's peak."""
    return pd.Series(pd.array(ids.take(positions), dtype="str"))
