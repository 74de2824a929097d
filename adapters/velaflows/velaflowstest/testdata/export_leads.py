#!/usr/bin/env python3
"""Export all CRM leads to a CSV file."""
# The "Full Script Example" of the VelaFlows Python guide, transcribed as
# written; only this comment block is added and the indentation restored.
# It imports the guide's
# client helper (velaflows.py, next to this file), which reads the base URL
# and credentials from the environment.
import csv
import os
from velaflows import VelaFlowsClient

client = VelaFlowsClient()


def export_leads(output_file: str = "leads_export.csv"):
    # Fetch all leads
    all_leads = []
    page = 1
    while True:
        result = client.get("/crm/leads", params={
            "page": page,
            "limit": 100,
            "sortBy": "createdAt",
            "sortOrder": "desc",
        })
        all_leads.extend(result["items"])
        if page >= result["pagination"]["totalPages"]:
            break
        page += 1

    if not all_leads:
        print("No leads found")
        return

    # Write CSV
    fieldnames = ["_id", "firstName", "lastName", "email", "phone", "status", "createdAt"]
    with open(output_file, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fieldnames, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(all_leads)

    print(f"Exported {len(all_leads)} leads to {output_file}")


if __name__ == "__main__":
    export_leads()
