"""Admin building blocks shared by the apps' admin modules."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the admin may show but never add, change or delete: records that only the
    services write (ledger entries, consent events, template status). Admin actions that
    call a service still work."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _superusers_only(request) -> bool:
    """The admin site is the operators': superusers only. A staff flag alone (say, on an
    account's user) opens nothing (docs/api/account.md#accounts-users-and-the-admin)."""
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _superusers_only
