"""Looking many numbers up at once (sends, imports): the right contacts, one query, and on
PostgreSQL one index probe per number, whatever the planner's statistics say of the account."""

import pytest

from django.db import connection

from contacts.bulk import _by_numbers_sql, contact_ids_by_e164, existing_by_e164
from contacts.services import contact_delete
from tests.contacts.factories import make_contact, make_contacts

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def test_many_numbers_are_looked_up_in_one_query_within_the_account(
    account, other_account, django_assert_num_queries
):
    mine = make_contacts(account, 3)
    gone = make_contact(account, "+12015550999")
    contact_delete(account, contact_id=gone.pk)
    theirs = make_contact(other_account, "+12015550500")
    wanted = [c.format_e164 for c in mine] + [gone.format_e164, theirs.format_e164, "+12015550777"]
    with django_assert_num_queries(1):
        found = existing_by_e164(account.pk, wanted)
    assert {e164: c.pk for e164, c in found.items()} == {c.format_e164: c.pk for c in mine}
    with django_assert_num_queries(1):
        ids = contact_ids_by_e164(account.pk, wanted)
    assert ids == {c.format_e164: c.pk for c in mine}
    assert existing_by_e164(account.pk, []) == {} and contact_ids_by_e164(account.pk, []) == {}


@pytest.mark.postgres_only
@on_postgresql
def test_an_account_the_statistics_dont_know_still_gets_one_index_probe_per_number(account):
    # The account's 2,000 contacts were never ANALYZEd: the planner takes it for a handful of
    # rows. A plain `format_e164 = ANY(…)` then reads all of them and filters; the lookup
    # must stay a probe of the (customer_id, format_e164) index per number.
    make_contacts(account, 2000)
    numbers = [f"+1201555{n:04d}" for n in range(0, 4000, 2)]
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) " + _by_numbers_sql("contact.id"),
            [numbers, str(account.pk)],
        )
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Nested Loop" in plan, plan
    assert "Index Cond: ((customer_id = " in plan and "format_e164" in plan, plan
    assert "Rows Removed by Filter" not in plan, plan
    assert len(contact_ids_by_e164(account.pk, numbers)) == 1000
