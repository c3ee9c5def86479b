#!/usr/bin/env python3
"""Seeds a todo-server database for the benchmark, straight into its tables.

    seed.py tasks   DATABASE_URL N_TASKS N_USERS   other users' tasks, N_TASKS in all
    seed.py refresh DATABASE_URL USER_ID N OUT     N live sessions of USER_ID; their refresh
                                                   tokens, one a line, go to OUT
    seed.py tokens  DATABASE_URL N SECRET OUT      N accounts with a session each; an access
                                                   token (HS256 with SECRET) for each, one a line

Writing rows directly is what lets the benchmark reach 500k tasks in seconds; the rows are the
ones the service itself would write (text UUIDs, UTC timestamps, SHA-256 hex token hashes).
PostgreSQL is fed through `psql` with COPY; SQLite through Python's sqlite3 module.
"""
import base64
import datetime
import hashlib
import hmac
import io
import json
import secrets
import sqlite3
import subprocess
import sys
import time
import uuid

PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2VlZHNlZWRzZWVk$notarealhashnotarealhashnotarealhashnot"


def now(offset_seconds=0):
    moment = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return (moment + datetime.timedelta(seconds=offset_seconds)).isoformat(sep=" ")


def write(url, table, columns, rows):
    if url.startswith(("postgres://", "postgresql://")):
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
        copy = f"\\copy {table} ({', '.join(columns)}) FROM STDIN"
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", copy],
                       input=buffer.getvalue(), text=True, check=True)
    else:
        with sqlite3.connect(url, timeout=30) as db:
            marks = ", ".join("?" for _ in columns)
            db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def analyze(url):
    if url.startswith(("postgres://", "postgresql://")):
        # VACUUM too: after a bulk load autovacuum would otherwise vacuum the new rows in the
        # middle of the next measurements, on the same two cores.
        subprocess.run(["psql", "-q", url, "-c", "VACUUM ANALYZE"], check=True)
    else:
        with sqlite3.connect(url, timeout=30) as db:
            db.execute("ANALYZE")


def users(count, prefix):
    stamp = now()
    return [(str(uuid.uuid4()), f"{prefix}-{i}-{secrets.token_hex(4)}@bench.example.org", None,
             PASSWORD_HASH, stamp, stamp) for i in range(count)]


def insert_users(url, rows):
    write(url, "users", ["id", "email", "name", "password_hash", "created_at", "updated_at"], rows)


def seed_tasks(url, n_tasks, n_users):
    owners = users(n_users, "owner")
    insert_users(url, owners)
    rows, base = [], time.time()
    for i in range(n_tasks):
        owner = owners[i % n_users][0]
        stamp = datetime.datetime.fromtimestamp(base - i, datetime.timezone.utc).replace(tzinfo=None)
        stamp = stamp.isoformat(sep=" ")
        rows.append((str(uuid.uuid4()), owner, f"seeded task {i}", None,
                     "true" if i % 3 == 0 else "false", stamp, stamp))
        if len(rows) == 100_000:
            write_tasks(url, rows)
            rows = []
    if rows:
        write_tasks(url, rows)
    analyze(url)


def write_tasks(url, rows):
    if not url.startswith(("postgres://", "postgresql://")):
        rows = [r[:4] + (1 if r[4] == "true" else 0,) + r[5:] for r in rows]
    write(url, "tasks", ["id", "user_id", "title", "description", "completed", "created_at",
                         "updated_at"], rows)


def sessions_for(url, user_ids):
    """One live session per user id, with one unused refresh token each; returns the tokens."""
    created, expires, token_expires = now(), now(30 * 86400), now(7 * 86400)
    sessions, tokens, plain = [], [], []
    for user_id in user_ids:
        session_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(32)
        sessions.append((session_id, user_id, created, created, expires, None, "bench", "127.0.0.1"))
        tokens.append((hashlib.sha256(token.encode()).hexdigest(), session_id, created,
                       token_expires, None))
        plain.append((user_id, session_id, token))
    write(url, "sessions", ["id", "user_id", "created_at", "last_used_at", "expires_at",
                            "revoked_at", "user_agent", "ip_address"], sessions)
    write(url, "refresh_tokens", ["token_hash", "session_id", "created_at", "expires_at",
                                  "rotated_at"], tokens)
    return plain


def seed_refresh(url, user_id, count, out):
    plain = sessions_for(url, [user_id] * count)
    with open(out, "w") as f:
        f.writelines(token + "\n" for _, _, token in plain)
    # Statistics from before these rows would tell SQLite's planner the tables are tiny.
    analyze(url)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def access_token(secret, user_id, email, session_id):
    issued = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": user_id, "email": email, "sid": session_id,
                             "jti": str(uuid.uuid4()), "iat": issued, "exp": issued + 3600,
                             "iss": "todo-server", "aud": "todo-server"}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


def seed_tokens(url, count, secret, out):
    accounts = users(count, "mixed")
    insert_users(url, accounts)
    plain = sessions_for(url, [a[0] for a in accounts])
    emails = {a[0]: a[1] for a in accounts}
    with open(out, "w") as f:
        for user_id, session_id, _ in plain:
            f.write(access_token(secret, user_id, emails[user_id], session_id) + "\n")
    analyze(url)


if __name__ == "__main__":
    command, url = sys.argv[1], sys.argv[2]
    if command == "tasks":
        seed_tasks(url, int(sys.argv[3]), int(sys.argv[4]))
    elif command == "refresh":
        seed_refresh(url, sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif command == "tokens":
        seed_tokens(url, int(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        sys.exit(__doc__)
