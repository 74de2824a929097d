# velaflows.py
#
# The "Setup: API Client Helper" of the VelaFlows Python guide, transcribed
# as written, with its indentation restored; nothing else is changed
# except ONE line: the guide hardcodes
#     BASE_URL = "https://api.velaflows.com/api/v1"
# and here the base URL comes from VELAFLOWS_BASE_URL (falling back to the
# guide's value), so that the examples can be pointed at the emulator. The
# token and workspace ID already come from the environment in the guide
# (VELAFLOWS_API_TOKEN, VELAFLOWS_WORKSPACE_ID).
import os
import time
import random
import requests


class VelaFlowsError(Exception):
    """Raised when the VelaFlows API returns an error."""

    def __init__(self, status: int, code: str, message: str, details: dict = None):
        self.status = status
        self.code = code
        self.details = details or {}
        super().__init__(message)


class VelaFlowsClient:
    # Changed from the guide: BASE_URL = "https://api.velaflows.com/api/v1"
    BASE_URL = os.environ.get("VELAFLOWS_BASE_URL", "https://api.velaflows.com/api/v1")

    def __init__(self, token: str = None, workspace_id: str = None):
        self.token = token or os.environ["VELAFLOWS_API_TOKEN"]
        self.workspace_id = workspace_id or os.environ["VELAFLOWS_WORKSPACE_ID"]
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {self.token}",
                "x-workspace-id": self.workspace_id,
                "Content-Type": "application/json",
            }
        )

    def _handle_response(self, response: requests.Response) -> dict:
        data = response.json()
        if not response.ok or not data.get("success"):
            error = data.get("error", {})
            raise VelaFlowsError(
                status=response.status_code,
                code=error.get("code", "UNKNOWN"),
                message=error.get("message", "Unknown error"),
                details=error.get("details"),
            )
        return data["data"]

    def get(self, path: str, params: dict = None) -> dict:
        """Send a GET request."""
        response = self.session.get(f"{self.BASE_URL}{path}", params=params)
        return self._handle_response(response)

    def post(self, path: str, json: dict = None) -> dict:
        """Send a POST request."""
        response = self.session.post(f"{self.BASE_URL}{path}", json=json)
        return self._handle_response(response)

    def patch(self, path: str, json: dict = None) -> dict:
        """Send a PATCH request."""
        response = self.session.patch(f"{self.BASE_URL}{path}", json=json)
        return self._handle_response(response)

    def delete(self, path: str) -> dict:
        """Send a DELETE request."""
        response = self.session.delete(f"{self.BASE_URL}{path}")
        return self._handle_response(response)


# Initialize the client
client = VelaFlowsClient()
