from django.urls import path

from messaging.api import conversations
from messaging.api import views as messages
from messaging.webhooks.api import views as webhooks

app_name = "messaging_api"
urlpatterns: list = [
    path("messages", messages.MessageListSendView.as_view(), name="messages"),
    path("messages/queue", messages.MessageQueueView.as_view(), name="messages-queue"),
    path("messages/<uuid:message_id>", messages.MessageDetailView.as_view(), name="message"),
    path(
        "messages/<uuid:message_id>/activities",
        messages.MessageActivitiesView.as_view(),
        name="message-activities",
    ),
    path(
        "messages/<uuid:message_id>/resend",
        messages.MessageResendView.as_view(),
        name="message-resend",
    ),
    path(
        "messages/<uuid:message_id>/cancel",
        messages.MessageCancelView.as_view(),
        name="message-cancel",
    ),
    path("conversations", conversations.ConversationListView.as_view(), name="conversations"),
    path(
        "conversations/<uuid:contact_id>",
        conversations.ConversationMessagesView.as_view(),
        name="conversation",
    ),
    path(
        "simulator/inbound",
        conversations.SimulatedInboundView.as_view(),
        name="simulator-inbound",
    ),
    path("webhooks", webhooks.WebhookListCreateView.as_view(), name="webhooks"),
    # Literal routes before the <uuid:id> ones.
    path(
        "webhooks/event-types", webhooks.WebhookEventTypesView.as_view(), name="webhook-event-types"
    ),
    path("webhooks/<uuid:id>", webhooks.WebhookDetailView.as_view(), name="webhook"),
    path("webhooks/<uuid:id>/test", webhooks.WebhookTestView.as_view(), name="webhook-test"),
    path(
        "webhooks/<uuid:id>/toggle-status",
        webhooks.WebhookToggleStatusView.as_view(),
        name="webhook-toggle-status",
    ),
    path(
        "webhooks/<uuid:id>/rotate-secret",
        webhooks.WebhookRotateSecretView.as_view(),
        name="webhook-rotate-secret",
    ),
    path("webhooks/<uuid:id>/events", webhooks.WebhookEventsView.as_view(), name="webhook-events"),
    path(
        "webhooks/<uuid:id>/events/<uuid:event_id>/redeliver",
        webhooks.WebhookRedeliverView.as_view(),
        name="webhook-event-redeliver",
    ),
]
