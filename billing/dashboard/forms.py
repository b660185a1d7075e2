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


class PriceFilterForm(forms.Form):
    """The price list's filters: a country (ISO code) and a channel, as GET /v3/billing/prices
    takes them."""

    country = forms.RegexField(
        regex=r"^\s*[A-Za-z]{2}\s*$",
        required=False,
        max_length=10,
        error_messages={"invalid": "A two-letter ISO country code, such as DE."},
    )
    channel = forms.ChoiceField(required=False)

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", "Any channel"), *channels]

    def selector_fields(self) -> dict:
        """Keyword arguments for PriceBook.effective_prices (none while a filter is invalid)."""
        if not self.is_valid():
            return {}
        return {
            "country": self.cleaned_data["country"].strip().upper(),
            "channel": self.cleaned_data["channel"],
        }
