"""Works out which remote peer each event is about.

racoon lines carry addresses; charon lines often carry only `<conn|id>`, so a connection is
tied to its peer's address wherever one line shows both (`IKE_SA conn[7] established between
A...B`, `initiating IKE_SA conn[7] to B`). The local (MX) side is learnt from the same lines,
which tells which address of a pair is the peer.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.events import Event


def assign_peers(events: Sequence[Event]) -> None:
    local: set[str] = set()
    remote_counts: dict[str, int] = {}
    conn_addr: dict[tuple[int, str], str] = {}
    uid_conn: dict[tuple[int, str], str] = {}
    uid_addr: dict[tuple[int, str], str] = {}
    for e in events:
        seg = e.segment
        if "local" in e.groups:
            local.add(e.groups["local"])
        remote = e.groups.get("remote")
        if remote:
            remote_counts[remote] = remote_counts.get(remote, 0) + 1
        conn, uid = e.conn, e.uid
        if conn and uid:
            uid_conn[(seg, uid)] = conn
        if remote:
            if conn:
                conn_addr.setdefault((seg, conn), remote)
            if uid:
                uid_addr.setdefault((seg, uid), remote)
    _follow_parent_sa(events, conn_addr)
    # An address seen as "remote" is never treated as local, even if a peer-side log says so.
    local -= set(remote_counts) if len(local) > 1 else set()
    named = [e.groups.get("remote") or e.groups.get("source_ip") or e.parsed.addr for e in events]
    _pair_lone_connection(events, named, conn_addr, local)

    for e, peer in zip(events, named, strict=True):
        seg = e.segment
        if peer is None:
            pair = [e.groups[k] for k in ("addr1", "addr2") if k in e.groups]
            others = [a for a in pair if a not in local]
            if others:
                peer = others[0]
        conn, uid = e.conn, e.uid
        if peer is None and uid:
            peer = uid_addr.get((seg, uid))
            conn = conn or uid_conn.get((seg, uid))
        if peer is None and conn:
            peer = conn_addr.get((seg, conn))
        if conn is None and uid:
            conn = uid_conn.get((seg, uid))
        e.peer = peer
        e.key = peer or (f"conn:{conn}" if conn else "?")
    _fold_unknown(events)


def _follow_parent_sa(events: Sequence[Event], conn_addr: dict[tuple[int, str], str]) -> None:
    """A connection whose Child SA is made under another one's IKE SA (`using IKE SA #1`) has its peer.

    libreswan names several connections to one peer; only the one that owns the IKE SA shows the address.
    """
    owners: dict[str, list[tuple[int, str]]] = {}  # serial → (segment, connection), in log order
    for e in events:
        conn, serial = e.conn, e.parsed.serial
        if not conn:
            continue
        parent = e.groups.get("parent")
        if parent and parent != serial:
            # The IKE SA may be shown a segment earlier (a console prompt or comment in between).
            for seg, owner in reversed(owners.get(parent, [])):
                addr = conn_addr.get((seg, owner)) if seg <= e.segment else None
                if addr:
                    conn_addr.setdefault((e.segment, conn), addr)
                    break
        if serial and (e.segment, conn) not in owners.get(serial, []):
            owners.setdefault(serial, []).append((e.segment, conn))


def _pair_lone_connection(events: Sequence[Event], named: Sequence[str | None],
                          conn_addr: dict[tuple[int, str], str], local: set[str]) -> None:
    """One connection name and one peer address in a log, never on the same line: they are one peer.

    libreswan names the MX only in `packet from addr:port:` lines and the connection only in
    `"conn" #n:` lines; without this the two halves of one negotiation would read as two peers.
    """
    conns: dict[int, set[str]] = {}
    addrs: dict[int, set[str]] = {}
    for e, addr in zip(events, named, strict=True):
        conn = e.conn
        if conn and (e.segment, conn) not in conn_addr:
            _note_in(conns, e.segment, conn)
        if addr and addr not in local:
            _note_in(addrs, e.segment, addr)
    for seg, names in conns.items():
        found = addrs.get(seg, set())
        if len(names) == 1 and len(found) == 1:
            conn_addr[(seg, next(iter(names)))] = next(iter(found))


def _note_in(found: dict[int, set[str]], segment: int, value: str) -> None:
    values = found.get(segment)
    if values is None:
        found[segment] = {value}
    else:
        values.add(value)


def _fold_unknown(events: Sequence[Event]) -> None:
    """Lines that name no peer belong to the only peer of their segment, when there is one."""
    keys_by_segment: dict[int, set[str]] = {}
    for e in events:
        if e.key != "?":
            keys_by_segment.setdefault(e.segment, set()).add(e.key)
    all_keys = {k for keys in keys_by_segment.values() for k in keys}
    for e in events:
        if e.key != "?":
            continue
        keys = keys_by_segment.get(e.segment) or all_keys
        if len(keys) == 1:
            e.key = next(iter(keys))
            if not e.key.startswith("conn:"):
                e.peer = e.key


_OPENS = {"p1_start", "p2_start"}
_CLOSES = {"p1_up", "p2_up", "giveup", "p1_down"}


def attribute_by_sequence(ordered: Sequence[Event]) -> None:
    """A line with no address (racoon's time-outs, notifies) belongs to the negotiation in flight.

    Walks the events in time order; a nameless line goes to the only open negotiation of its
    segment, or else to the peer of the line just before it.
    """
    open_keys: dict[int, list[str]] = {}
    last_key: dict[int, str] = {}
    for e in ordered:
        seg = e.segment
        if e.key == "?":
            candidates = open_keys.get(seg) or []
            key = candidates[-1] if candidates else last_key.get(seg)
            if key is None:
                continue
            e.key = key
            e.peer = None if key.startswith("conn:") else key
        stack = open_keys.setdefault(seg, [])
        if e.kind in _OPENS:
            if e.key in stack:
                stack.remove(e.key)
            stack.append(e.key)
        elif e.kind in _CLOSES and e.key in stack:
            stack.remove(e.key)
        last_key[seg] = e.key
