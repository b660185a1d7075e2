from django.apps import AppConfig


class TemplatesAppConfig(AppConfig):
    name = "templates_app"
    verbose_name = "Templates"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from billing import caching
        from templates_app import errors  # noqa: F401
        from templates_app.models import Template, TemplateStatusChange

        # The send path caches templates per customer (billing.caching): every change to a
        # template or its review history bumps the customer's counter.
        for signal in (post_save, post_delete):
            signal.connect(caching.customer_changed, sender=Template, dispatch_uid="cache")
            signal.connect(
                _status_change_changed, sender=TemplateStatusChange, dispatch_uid="cache"
            )


def _status_change_changed(sender, instance, **kwargs):
    from billing import caching
    from billing.models import Customer
    from templates_app.models import Template

    # Deleted with its template: the template's own post_delete bumps; with its customer:
    # the counter goes too.
    if caching.deleting(kwargs.get("origin")) not in (Template, Customer):
        caching.customer_version_bump(instance.template.customer_id)
