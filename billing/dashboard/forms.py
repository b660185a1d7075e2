from decimal import Decimal

from django import forms


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, label="Key name", help_text="e.g. “Production server”")


class LowBalanceThresholdForm(forms.Form):
    low_balance_threshold = forms.DecimalField(
        label="Warn me when the balance falls below (USD)",
        min_value=Decimal("0"),
        max_digits=18,
        decimal_places=4,
    )


class QuietHoursForm(forms.Form):
    quiet_hours_enabled = forms.BooleanField(
        label="Hold marketing messages in quiet hours", required=False
    )
    quiet_hours_start = forms.TimeField(
        label="Quiet from", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_hours_end = forms.TimeField(
        label="Until", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )


class TopUpRequestForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount (USD)", min_value=Decimal("0.01"), max_digits=18, decimal_places=4
    )
    note = forms.CharField(label="Note for the operator", max_length=500, required=False)
