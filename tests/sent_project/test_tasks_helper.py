from django.tasks import task

from tests.tasks import queued_tasks, run_queued_tasks

RUNS: list[str] = []


@task()
def record_run(label: str) -> str:
    RUNS.append(label)
    return label


def test_it_runs_jobs_enqueued_on_the_database_backend(db):
    RUNS.clear()
    record_run.enqueue(label="one")
    assert queued_tasks().count() == 1
    assert RUNS == []
    assert run_queued_tasks() == 1
    assert RUNS == ["one"]
    assert queued_tasks().count() == 0
