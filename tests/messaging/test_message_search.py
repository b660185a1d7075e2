"""The message history's search (`messages_for(customer, search=…)`,
docs/dashboard.md#message-search): the readings the dashboard tests don't cover, and on
PostgreSQL the trigram index that keeps it fast."""

import pytest

from django.db import connection, transaction

from billing.models import Customer
from messaging.selectors import messages_for
from tests.messaging.factories import make_approved_template, send

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


@pytest.fixture
def template(account):
    return make_approved_template(account)


def found(customer, search) -> set:
    return set(messages_for(customer, search=search).values_list("pk", flat=True))


def test_national_formats_are_read_in_the_accounts_region(account, template):
    Customer.objects.filter(pk=account.pk).update(default_region="GB")
    account.refresh_from_db()
    [uk] = send(account, ["+447911123456"])
    [us] = send(account, ["+14155550160"])
    assert found(account, "07911 123456") == {uk.pk}  # a whole national number
    assert found(account, "0044 7911") == {uk.pk}  # 00: an international prefix
    assert found(account, "07911") == {uk.pk}  # 0: a trunk prefix
    assert found(account, "+1 415") == {us.pk}
    assert found(account, "0160") == {us.pk}  # four digits: just digits


def test_a_search_with_other_filters_keeps_every_filter(account, template):
    [sms, other] = send(account, ["+14155550160", "+14155550161"])
    assert found(account, "order A-1001") == {sms.pk, other.pk}
    narrowed = messages_for(account, search="order A-1001", contact_id=sms.contact_id)
    assert set(narrowed.values_list("pk", flat=True)) == {sms.pk}
    assert not messages_for(account, search="order A-1001", statuses=["READ"]).exists()


def _plan_with_only_the_search_index(customer, search) -> str:
    """The plan of the search with the table's other indexes dropped and no sequential scan
    (rolled back): a table this small is best read whole, and the customer's other indexes
    serve `customer_id =`; without them, the plan shows what the trigram index serves."""
    sql, params = messages_for(customer, search=search).query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'messaging_message' "
            "AND indexname NOT IN ('message_customer_search_trgm', 'messaging_message_pkey')"
        )
        for (index,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{index}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


@on_postgresql
def test_a_text_search_is_an_index_condition_of_the_trigram_index(account, template):
    send(account, ["+14155550160"])
    plan = _plan_with_only_the_search_index(account, "nothing like this")
    scan = plan[plan.index("Bitmap Index Scan on message_customer_search_trgm") :]
    assert "upper(body) ~~ '%NOTHING LIKE THIS%'" in scan, plan
