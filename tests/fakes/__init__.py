"""Local fakes of the providers: real HTTP servers on 127.0.0.1 that answer like Twilio and
Meta's Graph API, record what they received and call our callback URLs back, signed."""
