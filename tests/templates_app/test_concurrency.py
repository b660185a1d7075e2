"""Concurrent writers: parallel creates still get unique derived names, and of parallel
submissions of one template exactly one opens a review."""

from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from sent_project.errors import SentError
from templates_app.models import Template
from templates_app.services import template_create, template_submit
from tests.factories import make_customer
from tests.tasks import queued_tasks
from tests.templates_app.factories import definition


def _in_thread(function):
    def run(*args):
        try:
            return function(*args)
        except SentError as error:
            return error.code
        finally:
            connection.close()

    return run


def test_parallel_creates_get_distinct_derived_names(transactional_db):
    customer = make_customer()
    create = _in_thread(lambda _: template_create(customer, definition=definition()).name)
    with ThreadPoolExecutor(max_workers=6) as pool:
        names = list(pool.map(create, range(6)))
    assert sorted(names) == sorted(
        ["hi_your_order_has_shipped"] + [f"hi_your_order_has_shipped_{n}" for n in range(2, 7)]
    )
    assert Template.objects.count() == 6


def test_parallel_submissions_open_one_review(transactional_db):
    customer = make_customer()
    template = template_create(customer, definition=definition())
    submit = _in_thread(lambda _: template_submit(customer, template).status)
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(submit, range(4)))
    assert sorted(outcomes) == ["CONFLICT_006"] * 3 + ["PENDING"]
    assert queued_tasks("templates_app.tasks.apply_template_verdict").count() == 1
    assert template.status_changes.filter(to_status="PENDING").count() == 1
