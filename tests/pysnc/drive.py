"""Drives the snconnect sandbox with ServiceNow's own Python client, pysnc, as a user's script
would: the password grant (client credentials in a Basic header, RFC 6749 section 2.3.1),
reads with pagination, display values, an insert with the platform's defaults, an update, a
delete, the Aggregate API count, and a refresh grant that returns a new access token.

Usage: python drive.py INSTANCE_URL CLIENT_ID CLIENT_SECRET USER PASSWORD
Exits non-zero, saying what broke, when the sandbox does not answer as an instance would.
"""

import sys

import requests
from pysnc import ServiceNowClient, ServiceNowPasswordGrantFlow


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def main():
    url, client_id, secret, user, password = sys.argv[1:6]
    flow = ServiceNowPasswordGrantFlow(user, password, client_id, secret)
    client = ServiceNowClient(url, flow)
    session = client.session

    # Reads with pagination: a batch size smaller than the table makes pysnc page.
    gr = client.GlideRecord("incident", batch_size=2)
    gr.query()
    numbers = [r.number for r in gr]
    check(len(numbers) >= 3, f"paged read of incident returned {len(numbers)} rows")
    check(len(set(numbers)) == len(numbers), "pages do not repeat rows")

    # Display values: a choice shows its label, a reference its display value.
    gr = client.GlideRecord("incident")
    gr.add_query("number", numbers[0])
    gr.query()
    check(gr.next(), "a read by number finds the incident")
    check(gr.get_display_value("state") not in ("", "2"), f"state shows a label: {gr.get_display_value('state')!r}")

    # Insert: the platform fills its defaults.
    new = client.GlideRecord("incident")
    new.initialize()
    new.short_description = "written by pysnc against the sandbox"
    sys_id = new.insert()
    check(bool(sys_id), "insert returns a sys_id")
    got = client.GlideRecord("incident")
    check(got.get(sys_id), "the inserted record reads back")
    check(str(got.number).startswith("INC"), f"insert got a number: {got.number!r}")
    check(str(got.active) == "true", f"insert got active=true: {got.active!r}")
    check(str(got.state) != "", f"insert got a state: {got.state!r}")

    # Update, then delete.
    got.short_description = "updated by pysnc"
    check(bool(got.update()), "update succeeds")
    again = client.GlideRecord("incident")
    check(again.get(sys_id) and str(again.short_description) == "updated by pysnc", "the update reads back")
    check(again.delete(), "delete succeeds")
    gone = client.GlideRecord("incident")
    check(not gone.get(sys_id), "the deleted record is gone")

    # The Aggregate API count.
    r = session.get(f"{url}/api/now/stats/incident", params={"sysparm_count": "true"})
    check(r.status_code == 200, f"stats answers 200 (got {r.status_code})")
    count = int(r.json()["result"]["stats"]["count"])
    check(count == len(numbers), f"stats counts {count} incidents")

    # Refresh: a new access token, different from the first.
    first = session.token["access_token"]
    token = session.refresh_token(
        f"{url}/oauth_token.do", client_id=client_id, client_secret=secret
    )
    check(token["access_token"] != first, "the refresh grant hands out a new access token")
    r = session.get(f"{url}/api/now/table/sys_user", params={"sysparm_limit": "1"})
    check(r.status_code == 200, "the refreshed token reads")
    check(
        r.headers.get("Content-Type", "").lower() == "application/json;charset=utf-8",
        f"Content-Type as an instance sends it: {r.headers.get('Content-Type')!r}",
    )
    print("pysnc: all good")


if __name__ == "__main__":
    main()
