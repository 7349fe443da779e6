#!/usr/bin/env python3
"""Helpers for bench/run (standard library only).

    harness.py flow     BASE CLIENT_ID SECRET REDIRECT_URI LOGIN     (password on stdin)
        One real browser sign-in over HTTP: /authorize -> GET /login -> POST /login/password
        (CSRF token from the page, cookies) -> account page if shown -> code -> POST /token
        with the PKCE verifier. Prints the token response as JSON.
    harness.py refresh  BASE CLIENT_ID SECRET REFRESH_TOKEN [TOKEN_PATH]
        One refresh_token grant; prints the token response (used to get a fresh access token).
    harness.py pkce
        Prints "VERIFIER CHALLENGE" (S256) for the wrk sign-in script, which has no SHA-256.
    harness.py measure  LABEL_JSON URL LUA_SCRIPT PIDS
        One wrk load with an untimed warm-up, like the peer harness's run_load: the JSON line
        of the Lua script's done() plus the CPU ms per request and RSS of the server PIDS
        (comma-separated; summed) and the host's CPU use. Env: DURATION, WARMUP, THREADS,
        CONNECTIONS, plus whatever the Lua script reads.
    harness.py tag      KEY=VALUE...    (stdin: JSON lines; stdout: the same lines with the fields added)
    harness.py table    JSONL_FILE      Markdown tables of a results file (stdout).
"""

import base64
import hashlib
import html
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.parse


# --------------------------------------------------------------------------- HTTP flow

class Browser:
    """A minimal cookie-keeping HTTP client that never follows redirects."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.cookies = {}

    def request(self, method, target, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = {"Accept": "text/html,application/json"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(body)
        h.update(headers or {})
        conn.request(method, target, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                k, _, rest = value.partition("=")
                v = rest.split(";", 1)[0]
                if "Max-Age=0" in value:
                    self.cookies.pop(k, None)
                else:
                    self.cookies[k] = v
        conn.close()
        return resp.status, resp.getheader("Location"), data


def fail(msg):
    print(f"harness: {msg}", file=sys.stderr)
    sys.exit(1)


def hidden(page, name):
    m = re.search(r'name="%s"\s+value="([^"]*)"' % re.escape(name), page)
    return html.unescape(m.group(1)) if m else None


def basic(client_id, secret):
    q = urllib.parse.quote_plus
    return "Basic " + base64.b64encode(f"{q(client_id)}:{q(secret)}".encode()).decode()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def local_target(location):
    u = urllib.parse.urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


def flow(base, client_id, secret, redirect_uri, login, password, scope="openid profile offline_access"):
    b = Browser(base)
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": scope, "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    status, loc, _ = b.request("GET", "/authorize?" + query)
    if status not in (302, 303) or not loc or "/login" not in loc:
        fail(f"/authorize answered {status} {loc}")
    status, _, page = b.request("GET", local_target(loc))
    if status != 200:
        fail(f"sign-in page answered {status}")
    action = re.search(r'<form method="post" action="([^"]*)"', page)
    csrf, req = hidden(page, "csrf"), hidden(page, "req")
    if not (action and csrf and req):
        fail("sign-in page has no form, CSRF token or request id")
    status, loc, page = b.request("POST", html.unescape(action.group(1)), {
        "csrf": csrf, "req": req, "login": login, "password": password})
    if status not in (302, 303) or not loc:
        fail(f"password sign-in answered {status} (wrong password?)")
    if loc.startswith("/login/account"):
        status, _, page = b.request("GET", loc)
        if status != 200:
            fail(f"account page answered {status}")
        accounts = re.findall(r'name="account" value="([^"]*)"', page)
        if not accounts:
            fail("account page offers no account")
        status, loc, _ = b.request("POST", "/login/account", {
            "csrf": hidden(page, "csrf"), "req": hidden(page, "req"),
            "account": html.unescape(accounts[-1]), "action": "allow"})
        if status not in (302, 303) or not loc:
            fail(f"account choice answered {status}")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    if params.get("state") != state or "code" not in params:
        fail(f"no code in the redirect: {loc}")
    if params.get("iss") != base:
        fail(f"iss {params.get('iss')!r} in the authorization response is not {base!r}")
    status, _, body = b.request("POST", "/token", {
        "grant_type": "authorization_code", "code": params["code"],
        "redirect_uri": redirect_uri, "code_verifier": verifier,
    }, {"Authorization": basic(client_id, secret), "Accept": "application/json"})
    if status != 200:
        fail(f"/token answered {status}: {body[:300]}")
    return json.loads(body)


def refresh(base, client_id, secret, refresh_token, token_path="/token"):
    b = Browser(base)
    status, _, body = b.request("POST", token_path, {
        "grant_type": "refresh_token", "refresh_token": refresh_token,
    }, {"Authorization": basic(client_id, secret), "Accept": "application/json"})
    if status != 200:
        fail(f"refresh answered {status}: {body[:300]}")
    return json.loads(body)


# --------------------------------------------------------------------------- measuring

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            return None
    return total


def status_mb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def host_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    total = sum(v)
    return total - v[3] - v[4], total


def run_wrk(url, script, duration, extra_env, label="{}"):
    threads = os.environ.get("THREADS", "2")
    conns = os.environ.get("CONNECTIONS", "32")
    env = dict(os.environ, BENCH_LABEL=label, **extra_env)
    secs = int(duration.rstrip("s"))
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}", "--timeout", "10s", "-s", script, url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=secs + 60)
    return out.stdout + out.stderr


def measure(label_json, url, script, pids_csv):
    pids = [p for p in pids_csv.split(",") if p]
    duration = os.environ.get("DURATION", "10s")
    warmup = os.environ.get("WARMUP", "2s")
    if warmup.rstrip("s") not in ("", "0"):
        run_wrk(url, script, warmup, {})
    t0, (h0b, h0t), w0 = cpu_ticks(pids), host_ticks(), time.monotonic()
    out = run_wrk(url, script, duration, {}, label_json)
    t1, (h1b, h1t), w1 = cpu_ticks(pids), host_ticks(), time.monotonic()
    line = next((l[len("BENCH_JSON "):] for l in out.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        fail(f"wrk produced no result for {label_json}: {out[-800:]}")
    d = json.loads(line)
    ncpu = os.cpu_count()
    d["host_cpu_pct"] = round(100 * ncpu * (h1b - h0b) / max(h1t - h0t, 1), 1)
    d["host_cpus"] = ncpu
    if pids and t0 is not None and t1 is not None:
        cpu_s = (t1 - t0) / CLK_TCK
        d["server_cpu_pct"] = round(100 * cpu_s / (w1 - w0), 1)
        n = d.get("signins") or d.get("requests")
        d["server_cpu_ms_per_req"] = round(1000 * cpu_s / n, 4) if n else None
        rss = [status_mb(p, "VmRSS") for p in pids]
        hwm = [status_mb(p, "VmHWM") for p in pids]
        d["server_rss_mb"] = max(r for r in rss if r is not None) if any(rss) else None
        d["server_rss_peak_mb"] = max(r for r in hwm if r is not None) if any(hwm) else None
    print(json.dumps(d))


# --------------------------------------------------------------------------- table

def load_name(d):
    """The table's name of a load line of ../shared/bench/bench.sh (endpoint + variant)."""
    ep, variant = d.get("endpoint", "?"), d.get("variant", "")
    alg = next((a for a in ("RS256", "ES256", "EdDSA") if a in variant), None)
    if ep == "token_client_credentials":
        return f"client_credentials {alg}" if alg else f"client_credentials {variant}"
    if ep == "token_refresh":
        # named by the ID token's algorithm (the peer's access token is opaque), and by the
        # access token's when that one is a JWT signed otherwise
        id_alg = variant.rsplit("id_token-", 1)[1] if "id_token-" in variant else alg
        at_alg = variant[len("jwt-at-"):].split("+", 1)[0] if variant.startswith("jwt-at-") else None
        name = f"refresh_token {id_alg}" if id_alg else "refresh_token"
        return f"{name} ({at_alg} access token)" if at_alg and at_alg != id_alg else name
    return ep


def fmt(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def table(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    meta = next((r for r in rows if r.get("kind") == "meta"), {})
    loads = [r for r in rows if r.get("kind") == "load"]
    peer = {r["load"]: r for r in loads if r.get("role") == "peer"}
    ours = [r for r in loads if r.get("role") == "ours"]
    out = []
    if meta:
        out.append(f"`{meta.get('command', 'bench/run')}`, {meta.get('date')}, {meta.get('host_cpus')} CPU ({meta.get('cpu_model')}), "
                   f"wrk -t{meta.get('threads')} -c{meta.get('connections')} -d{meta.get('duration')}, "
                   f"load average before the run: {meta.get('loadavg_before')}, after: {meta.get('loadavg_after', '–')}.")
        out.append("")
    out.append("| backend | load | ours rps | peer rps | ratio | ours p50 / p99 ms | peer p50 / p99 ms "
               "| ours CPU ms/req | peer CPU ms/req | CPU ratio | ours RSS MB (peak) | errors |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in ours:
        if r.get("error"):
            out.append(f"| {r.get('backend')} | {r['load']} | error: {r['error']} | | | | | | | | | |")
            continue
        p = peer.get(r.get("peer_load") or r["load"])
        ratio = f"{r['rps'] / p['rps']:.2f}×" if p and p.get("rps") else "–"
        cpu_ratio = ("–" if not p or not p.get("server_cpu_ms_per_req") or r.get("server_cpu_ms_per_req") is None
                     else f"{r['server_cpu_ms_per_req'] / p['server_cpu_ms_per_req']:.2f}")
        errors = (r.get("non2xx3xx") or 0) + (r.get("socket_errors") or 0) + (r.get("flow_errors") or 0)
        out.append("| {b} | {l} | {rps} | {prps} | {ratio} | {p50} / {p99} | {pp} | {cpu} | {pcpu} | {cr} | {rss} ({hwm}) | {err} |".format(
            b=r.get("backend"), l=r["load"], rps=fmt(r.get("rps")),
            prps=fmt(p.get("rps")) if p else (r.get("peer_note") or "–"), ratio=ratio,
            p50=fmt(r.get("p50_ms"), 2), p99=fmt(r.get("p99_ms"), 2),
            pp=f"{fmt(p.get('p50_ms'), 2)} / {fmt(p.get('p99_ms'), 2)}" if p else "–",
            cpu=fmt(r.get("server_cpu_ms_per_req"), 3),
            pcpu=fmt(p.get("server_cpu_ms_per_req"), 3) if p else "–", cr=cpu_ratio,
            rss=fmt(r.get("server_rss_mb")), hwm=fmt(r.get("server_rss_peak_mb")), err=errors))
    argon = next((r for r in rows if r.get("kind") == "argon2"), None)
    if argon:
        out.append("")
        out.append(f"One argon2id verification ({argon['params']}): {argon['hash_ms']} ms (criterion, mean) → "
                   f"bound {argon['cores']} cores ÷ {argon['hash_ms']} ms = {argon['bound_signins_per_s']} sign-ins/s.")
        if argon.get("all_cores_ms"):
            out.append(f"{argon['cores']} verifications at once take {argon['all_cores_ms']} ms (criterion, "
                       f"`verify_all_cores`: concurrent hashes share memory bandwidth), so the cores really "
                       f"deliver {argon['all_cores_signins_per_s']} hashes/s.")
    out.append("")
    out.extend(targets(rows))
    extra = [r for r in rows if r.get("kind") == "note"]
    if extra:
        out.append("")
        for r in extra:
            out.append(f"- {r['text']}")
    if peer:
        out.append("")
        out.append("Peer RSS (MB) at the end of each of its loads: " + ", ".join(
            f"{k} {fmt(v.get('server_rss_mb'))}" for k, v in peer.items()) + ".")
    print("\n".join(out))


def targets(rows):
    """The issue's targets, checked against one results file."""
    loads = [r for r in rows if r.get("kind") == "load" and not r.get("error")]
    ours = {(r.get("backend"), r["load"]): r for r in loads if r.get("role") == "ours"}
    peer = {r["load"]: r for r in loads if r.get("role") == "peer"}
    emb, pg = "sqlite+memory", "postgres+redis"
    out = ["| target | measured (SQLite + memory unless said) | met |", "|---|---|---|"]

    def row(name, text, ok):
        out.append(f"| {name} | {text} | {'yes' if ok else ('**no**' if ok is False else '–')} |")

    def ratio(load, backend=emb):
        o = ours.get((backend, load))
        p = peer.get((o or {}).get("peer_load") or load)
        return o["rps"] / p["rps"] if o and p and p.get("rps") else None

    for loads_, want, extra_p99 in ((("discovery", "jwks"), 5, 5.0),
                                    (("client_credentials ES256", "refresh_token ES256"), 3, None),
                                    (("client_credentials RS256", "refresh_token RS256 (ES256 access token)"), 1.5, None),
                                    (("introspection", "userinfo"), 4, None)):
        for load in loads_:
            r = ratio(load)
            o = ours.get((emb, load))
            text = f"{r:.2f}× the peer's rps" if r else "–"
            ok = r >= want if r else None
            if extra_p99 is not None and o:
                text += f", p99 {o['p99_ms']:.2f} ms"
                ok = ok and o["p99_ms"] <= extra_p99
            row(f"{load}: ≥ {want}× peer" + (f", p99 ≤ {extra_p99:g} ms" if extra_p99 else ""), text, ok)
    # Not a target: the same refresh with an RS256 access token too signs twice with RSA
    # where the peer (opaque access token) signs once.
    r = ratio("refresh_token RS256")
    if r:
        row("refresh_token RS256 with an RS256 access token too (two RSA signatures; the peer signs one)",
            f"{r:.2f}× the peer's rps", None)
    for load in ("discovery", "jwks", "client_credentials ES256", "refresh_token ES256", "introspection", "userinfo"):
        o, p = ours.get((emb, load)), peer.get(load)
        if o and p and p.get("server_cpu_ms_per_req") and o.get("server_cpu_ms_per_req") is not None:
            c = o["server_cpu_ms_per_req"] / p["server_cpu_ms_per_req"]
            row(f"{load}: CPU ms/request ≤ 1/3 of the peer's",
                f"{o['server_cpu_ms_per_req']:.3f} vs {p['server_cpu_ms_per_req']:.3f} ms = {c:.2f}", c <= 1 / 3)
    rss = [(r.get("server_rss_peak_mb") or r.get("server_rss_mb") or 0, r["load"], r.get("backend"))
           for r in loads if r.get("role") == "ours"]
    if rss:
        top = max(rss)
        row("RSS ≤ 60 MB under any load", f"max {top[0]} MB ({top[2]}: {top[1]})", top[0] <= 60)
    argon = next((r for r in rows if r.get("kind") == "argon2"), None)
    for backend in (emb, pg):
        for load, what in (("sign-in (whole flow)", "ES256 client"),
                           ("sign-in (whole flow, RS256 client)", "RS256 client: + 2 RSA signatures each")):
            si = ours.get((backend, load))
            if si and argon:
                share = si["rps"] / argon["bound_signins_per_s"]
                real = argon.get("all_cores_signins_per_s")
                also = f" ({100 * si['rps'] / real:.0f} % of the {real}/s of concurrent hashes)" if real else ""
                row(f"password sign-ins ≥ 90 % of the argon2 bound ({backend}, {what})",
                    f"{si['rps']:.1f}/s of {argon['bound_signins_per_s']}/s = {100 * share:.0f} %{also}", share >= 0.9)
    for backend in (emb, pg):
        a, b = ours.get((backend, "mixed: token ES256 alone")), ours.get((backend, "mixed: token ES256 + sign-ins"))
        if a and b:
            m = b["p99_ms"] / a["p99_ms"]
            row(f"token p99 while sign-ins saturate ≤ 3× ({backend})",
                f"{b['p99_ms']:.2f} vs {a['p99_ms']:.2f} ms = {m:.2f}×", m <= 3)
    for load in ("client_credentials RS256", "client_credentials ES256", "refresh_token RS256",
                 "refresh_token RS256 (ES256 access token)", "refresh_token ES256", "introspection",
                 "userinfo"):
        e, g = ours.get((emb, load)), ours.get((pg, load))
        if e and g and g.get("rps"):
            f = e["rps"] / g["rps"]
            row(f"{load}: PostgreSQL + Redis within 2× of embedded",
                f"{g['rps']:.0f} vs {e['rps']:.0f} rps (embedded ÷ PG = {f:.2f})", f <= 2)
    return out


# --------------------------------------------------------------------------- main

def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "flow":
        base, cid, secret, redirect, login = args[:5]
        scope = args[5] if len(args) > 5 else "openid profile offline_access"
        print(json.dumps(flow(base, cid, secret, redirect, login, sys.stdin.readline().rstrip("\n"), scope)))
    elif cmd == "refresh":
        print(json.dumps(refresh(*args)))
    elif cmd == "pkce":
        print(*pkce_pair())
    elif cmd == "measure":
        measure(*args)
    elif cmd == "tag":
        extra = dict(a.split("=", 1) for a in args)
        for line in sys.stdin:
            if line.strip():
                d = json.loads(line)
                d.update(extra)
                d.setdefault("kind", "load")
                d.setdefault("role", "peer" if str(d.get("target", "")).startswith("peer:") else "ours")
                d.setdefault("load", load_name(d))
                print(json.dumps(d))
    elif cmd == "table":
        table(args[0])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
