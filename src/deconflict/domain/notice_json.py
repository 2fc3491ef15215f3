"""A notice's JSON both ways: ``{"party", "id"?, "kind"?, "volumes"}`` and notice files (one
notice, a list, a GeoJSON FeatureCollection) → :class:`Notice`, and a notice → its F3548 form.
Volumes are read and written by :mod:`.parse`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from deconflict.domain.errors import FieldError, ValidationError
from deconflict.domain.fields import Said, as_list, as_object, as_string, join_path, kind_of, required, say
from deconflict.domain.notice_text import notice_text_json, read_notice_text
from deconflict.domain.parse import parse_feature, parse_volume4d, volume_to_f3548
from deconflict.domain.policy import Limits
from deconflict.domain.strict import KEYS, check_keys
from deconflict.domain.volumes import PROTECTED_SITE_KIND, Notice, Volume4D


def _id_and_kind(props: Mapping[str, Any], path: str, said: Said | None) -> tuple[str | None, str]:
    """A notice's ``id`` (``None``: the broker assigns one) and ``kind`` (``activity`` when left out
    or blank), each default noted in ``said``."""
    nid = props.get("id")
    if nid is None:
        say(said, join_path(path, "id"), "assigned by the broker")
    else:
        nid = as_string(nid, join_path(path, "id")).strip()
        if not nid or len(nid) > 200:
            raise ValidationError.at(join_path(path, "id"), "must be 1 to 200 characters")
    kind = as_string(props.get("kind", ""), join_path(path, "kind")).strip()
    if not kind:
        say(said, join_path(path, "kind"), "activity")
    return nid, kind or "activity"


def parse_notice(value: Any, limits: Limits | None = None, path: str = "", said: Said | None = None) -> Notice:
    """``{"party", "id"?, "kind"?, "volumes": [Volume4D, …]}`` → :class:`Notice`; each default
    applied is noted in ``said``."""
    limits = limits or Limits()
    obj = as_object(value, path or "notice")
    check_keys(obj, KEYS["notice"], path)
    party = as_string(required(obj, "party", path), join_path(path, "party")).strip()
    if not party:
        raise ValidationError.at(join_path(path, "party"), "must not be empty")
    nid, kind = _id_and_kind(obj, path, said)
    vols = as_list(required(obj, "volumes", path), join_path(path, "volumes"))
    if not vols:
        raise ValidationError.at(join_path(path, "volumes"), "needs at least one volume")
    if len(vols) > limits.max_volumes_per_notice:
        raise ValidationError.at(
            join_path(path, "volumes"),
            f"{len(vols)} volumes is more than the limit of {limits.max_volumes_per_notice}",
        )
    volumes: list[Volume4D] = []
    total = 0
    for i, v in enumerate(vols):
        vpath = join_path(join_path(path, "volumes"), i)
        volumes.append(parse_volume4d(v, limits, vpath, said))
        total = _within_budget(total, volumes[-1], limits, vpath)
    extra = read_notice_text(obj, path)
    notice = Notice(party=party, id=nid, kind=kind, volumes=tuple(volumes), protected=kind == PROTECTED_SITE_KIND)
    return replace(notice, extra=extra) if extra else notice


def _within_budget(total: int, volume: Volume4D, limits: Limits, path: str) -> int:
    """``total`` plus the vertices of ``volume``; refused at ``path`` once the notice's volumes
    hold more than :attr:`Limits.max_vertices_per_notice` together."""
    total += len(volume.shape.points)
    if total > limits.max_vertices_per_notice:
        raise ValidationError.at(
            path,
            f"the notice's volumes hold {total} vertices up to this one, "
            f"the theater allows {limits.max_vertices_per_notice} in one notice",
        )
    return total


def parse_notices(doc: Any, limits: Limits | None = None, said: Said | None = None) -> list[Notice]:
    """A notice file: one notice, a JSON list of them, or a GeoJSON FeatureCollection whose
    features carry ``party``, ``id`` and ``kind`` as properties (features with the same party and
    id form one notice). Each default applied is noted in ``said``."""
    limits = limits or Limits()
    if isinstance(doc, list):
        return [parse_notice(n, limits, f"[{i}]", said) for i, n in enumerate(doc)]
    if not isinstance(doc, Mapping):
        raise ValidationError.at(
            "", f"must be a notice object, a list of notices or a GeoJSON FeatureCollection, got {kind_of(doc)}"
        )
    obj = doc
    if obj.get("type") == "FeatureCollection":
        return _parse_collection(obj, limits, said)
    return [parse_notice(obj, limits, said=said)]


def _parse_collection(obj: Mapping[str, Any], limits: Limits, said: Said | None) -> list[Notice]:
    check_keys(obj, KEYS["feature_collection"], "")
    feats = as_list(required(obj, "features", ""), "features")
    groups: dict[tuple[str, str], list[Volume4D]] = {}
    meta: dict[tuple[str, str], tuple[str | None, str]] = {}
    texts: dict[tuple[str, str], dict[str, str]] = {}
    vertices: dict[tuple[str, str], int] = {}
    errors: list[FieldError] = []
    for i, f in enumerate(feats):
        fpath = f"features[{i}]"
        fobj = as_object(f, fpath, "feature")
        if fobj.get("type") != "Feature":
            raise ValidationError.at(join_path(fpath, "type"), 'must be "Feature" (a GeoJSON Feature)')
        props = as_object(required(fobj, "properties", fpath), join_path(fpath, "properties"))
        check_keys(props, KEYS["feature_properties"] | KEYS["notice_properties"], join_path(fpath, "properties"))
        party = as_string(
            required(props, "party", join_path(fpath, "properties")), join_path(fpath, "properties.party")
        ).strip()
        if not party:
            errors.append(FieldError(join_path(fpath, "properties.party"), "must not be empty"))
            continue
        nid, kind = _id_and_kind(props, join_path(fpath, "properties"), said)
        key = (party, nid if nid is not None else f"\0{i}")
        group = groups.setdefault(key, [])
        if len(group) >= limits.max_volumes_per_notice:
            raise ValidationError.at(
                fpath,
                f"notice {nid!r} of party {party!r} has more than the limit of {limits.max_volumes_per_notice} volumes",
            )
        if key in meta and meta[key][1] != kind:
            raise ValidationError.at(
                join_path(fpath, "properties.kind"),
                f"{kind!r} differs from the kind {meta[key][1]!r} of earlier features of notice {nid!r}",
            )
        group.append(parse_feature(fobj, limits, fpath, notice_properties=True, said=said))
        vertices[key] = _within_budget(vertices.get(key, 0), group[-1], limits, fpath)
        meta[key] = (nid, kind)
        _agreeing_text(texts.setdefault(key, {}), props, join_path(fpath, "properties"), nid)
    if errors:
        raise ValidationError(errors)
    return [
        Notice(
            party=k[0],
            id=meta[k][0],
            kind=meta[k][1],
            volumes=tuple(v),
            protected=meta[k][1] == PROTECTED_SITE_KIND,
            extra=texts[k],
        )
        for k, v in groups.items()
    ]


def _agreeing_text(known: dict[str, str], props: Mapping[str, Any], path: str, nid: str | None) -> None:
    """A feature's ``name``, ``acm_type`` and ``description`` into its notice's ``known`` words: any
    feature of a notice may give them, and features that give the same one must agree."""
    for key, value in read_notice_text(props, path).items():
        if known.get(key, value) != value:
            (field,) = notice_text_json({key: value})
            raise ValidationError.at(
                join_path(path, field), f"differs from the {field} earlier features of {nid!r} give"
            )
        known[key] = value


def notice_to_json(n: Notice, volumes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``n`` in its F3548 form; ``volumes``: its volumes' forms when made already."""
    out: dict[str, Any] = {
        "party": n.party,
        "kind": n.kind,
        "volumes": [volume_to_f3548(v) for v in n.volumes] if volumes is None else volumes,
    }
    if n.id is not None:
        out = {"id": n.id, **out}
    out.update(notice_text_json(n.extra))
    return out
