# The "Common Operations", "Error Handling", "Pagination Helper" and "Retry
# with Exponential Backoff" examples of the VelaFlows Python guide,
# transcribed as written, in the guide's order,
# with its indentation restored. The guide runs these snippets in the scope of velaflows.py
# (its client helper); the import block below is the only addition, and it
# adds no behaviour. Base URL and credentials come from the environment via
# velaflows.py (VELAFLOWS_BASE_URL, VELAFLOWS_API_TOKEN,
# VELAFLOWS_WORKSPACE_ID).
import random
import time

import requests

from velaflows import VelaFlowsError, client

# --- List Conversations
result = client.get("/inbox/conversations", params={
    "page": 1,
    "limit": 20,
    "status": "open",
})
print(f"Total conversations: {result['pagination']['total']}")
for conv in result["items"]:
    print(f"[{conv['channelType']}] {conv['status']} - {conv['lastMessageAt']}")

# --- Create a CRM Lead
result = client.post("/crm/leads", json={
    "firstName": "Jane",
    "lastName": "Smith",
    "email": "jane.smith@example.com",
    "phone": "+1234567890",
    "pipelineId": "65a1b2c3d4e5f6a7b8c9d0e1",
    "stageId": "65a1b2c3d4e5f6a7b8c9d0e2",
})
print(f"Created lead: {result['lead']['_id']}")

# --- Send a Message
conversation_id = "65a1b2c3d4e5f6a7b8c9d0e1"
result = client.post(f"/inbox/conversations/{conversation_id}/messages", json={
    "content": "Hello! How can I help you today?",
    "type": "text",
})
print(f"Sent message: {result['message']['_id']}")

# --- Update a Customer
customer_id = "65a1b2c3d4e5f6a7b8c9d0e1"
result = client.patch(f"/customers/{customer_id}", json={
    "firstName": "Jane",
    "lastName": "Doe",
    "email": "jane.doe@newcompany.com",
})
print(f"Updated customer: {result['lead']['_id']}")

# --- Subscribe to Webhooks
result = client.post("/webhooks/subscriptions", json={
    "url": "https://your-app.com/webhooks/velaflows",
    "events": [
        "conversation.created",
        "conversation.message.received",
        "lead.stage_changed",
    ],
    "secret": "your-webhook-secret-for-verification",
})
print(f"Webhook subscription: {result['subscription']['_id']}")

# --- Error Handling
try:
    result = client.post("/crm/leads", json={
        "email": "invalid-email",
    })
except VelaFlowsError as e:
    if e.code == "VALIDATION_ERROR":
        print(f"Invalid data: {e.details}")
    elif e.code == "UNAUTHORIZED":
        print("Check your API token")
    elif e.code == "FORBIDDEN":
        print("Token lacks required scope")
    elif e.code == "TOO_MANY_REQUESTS":
        print("Rate limited - retry later")
    else:
        print(f"API error [{e.code}]: {e}")
except requests.RequestException as e:
    print(f"Network error: {e}")


# --- Pagination Helper
def fetch_all_pages(path: str, params: dict = None, limit: int = 100) -> list:
    """Fetch all items from a paginated endpoint."""
    params = dict(params or {})
    params["limit"] = limit
    all_items = []
    page = 1
    while True:
        params["page"] = page
        result = client.get(path, params=params)
        all_items.extend(result["items"])
        pagination = result["pagination"]
        if page >= pagination["totalPages"]:
            break
        page += 1
    return all_items


# Fetch all open conversations
all_conversations = fetch_all_pages(
    "/inbox/conversations",
    params={"status": "open"},
)
print(f"Fetched {len(all_conversations)} conversations")


# --- Retry with Exponential Backoff
def with_retry(fn, max_retries: int = 3):
    """Execute a function with automatic retry on rate limits and server errors."""
    for attempt in range(max_retries + 1):
        try:
            return fn()
        except VelaFlowsError as e:
            # Don't retry client errors (except rate limits)
            if e.status < 500 and e.status != 429:
                raise
            if attempt == max_retries:
                raise
            delay = (2 ** attempt) + random.random()
            print(f"Retrying in {delay:.1f}s (attempt {attempt + 1})")
            time.sleep(delay)
    raise RuntimeError("Unreachable")


# Usage
conversations = with_retry(
    lambda: client.get("/inbox/conversations", params={"status": "open"})
)
