from django.urls import path

from messaging.dashboard import (
    inbox_views,
    message_views,
    playground_views,
    queue_views,
    sender_views,
    webhook_views,
)

app_name = "messaging"
urlpatterns = [
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/simulate/", inbox_views.inbox_simulate, name="inbox_simulate"),
    path("inbox/keywords/", inbox_views.keywords, name="keywords"),
    path("inbox/keywords/toggle/", inbox_views.keyword_toggle, name="keyword_toggle"),
    path("inbox/<uuid:contact_id>/", inbox_views.conversation, name="conversation"),
    path(
        "inbox/<uuid:contact_id>/reply/",
        inbox_views.conversation_reply,
        name="conversation_reply",
    ),
    path("playground/", playground_views.playground, name="playground"),
    path("playground/preview/", playground_views.playground_preview, name="playground_preview"),
    path("playground/send/", playground_views.playground_send, name="playground_send"),
    path("playground/contacts/", playground_views.playground_contacts, name="playground_contacts"),
    path("messages/", message_views.message_list, name="message_list"),
    path("messages/export.csv", message_views.message_export, name="message_export"),
    path("messages/<uuid:message_id>/", message_views.message_detail, name="message_detail"),
    path(
        "messages/<uuid:message_id>/status/",
        playground_views.message_status,
        name="message_status",
    ),
    path(
        "messages/<uuid:message_id>/resend/",
        message_views.message_resend_view,
        name="message_resend",
    ),
    path(
        "messages/<uuid:message_id>/cancel/",
        message_views.message_cancel_view,
        name="message_cancel",
    ),
    path("queue/", queue_views.queue, name="queue"),
    path("queue/sends/<uuid:batch_id>/", queue_views.send_progress, name="send_progress"),
    path("senders/", sender_views.sender_list, name="sender_list"),
    path("senders/<uuid:sender_id>/", sender_views.sender_detail, name="sender_detail"),
    path("webhooks/", webhook_views.webhook_list, name="webhook_list"),
    path("webhooks/new/", webhook_views.webhook_create, name="webhook_create"),
    path("webhooks/<uuid:webhook_id>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("webhooks/<uuid:webhook_id>/edit/", webhook_views.webhook_edit, name="webhook_edit"),
    path("webhooks/<uuid:webhook_id>/toggle/", webhook_views.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<uuid:webhook_id>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path(
        "webhooks/<uuid:webhook_id>/rotate-secret/",
        webhook_views.webhook_rotate_secret,
        name="webhook_rotate_secret",
    ),
    path("webhooks/<uuid:webhook_id>/test/", webhook_views.webhook_test, name="webhook_test"),
    path(
        "webhooks/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/",
        webhook_views.webhook_delivery_row,
        name="webhook_delivery",
    ),
    path(
        "webhooks/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/redeliver/",
        webhook_views.webhook_redeliver,
        name="webhook_redeliver",
    ),
]
