"""Provider callbacks: the HTTP endpoints Twilio and Meta call (docs/providers/README.md#callbacks).

Every request is verified by its provider's signature, recorded (`ProviderCallback`, visible
to the operator in the admin) and, when verified and new, applied through the same paths
the simulator uses (`messaging.receipts`). A wrong or missing signature is answered 403 and
never applied; the same verified request again changes nothing.
"""
