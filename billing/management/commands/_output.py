import json

from billing.models import Customer


def print_key(command, customer: Customer, raw_key: str, as_json: bool) -> None:
    """The stable output of create_customer / create_api_key."""
    if as_json:
        command.stdout.write(
            json.dumps(
                {
                    "customer_id": str(customer.pk),
                    "name": customer.name,
                    "email": customer.email,
                    "balance": str(customer.balance),
                    "currency": customer.currency,
                    "api_key": raw_key,
                }
            )
        )
    else:
        command.stdout.write(f"Customer: {customer.name} ({customer.pk})")
        command.stdout.write(f"Balance:  {customer.balance} {customer.currency}")
        command.stdout.write(f"API key:  {raw_key}  (shown once; store it now)")
