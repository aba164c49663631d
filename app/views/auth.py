"""Authentication endpoints under /api/auth."""

from __future__ import annotations

from flask_appbuilder.api import BaseApi, expose
from flask_wtf.csrf import generate_csrf


class AuthApi(BaseApi):
    resource_name = "auth"
    route_base = "/api/auth"
    openapi_spec_tag = "Auth"

    @expose("/csrf-token", methods=["GET"])
    def csrf_token(self):
        """The CSRF token that cookie-authenticated writes send as `X-CSRF-Token`.
        ---
        get:
          summary: Get the CSRF token for this browser session
          security: []
          responses:
            200:
              description: The token
              content:
                application/json:
                  schema:
                    type: object
                    required: [csrf_token]
                    properties:
                      csrf_token:
                        type: string
        """
        return self.response(200, csrf_token=generate_csrf())
