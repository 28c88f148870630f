"""Who am I: the smallest useful API call, for checking a token."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from loanapp.access import request_user, signed_in
from loanapp.api.core import api_blueprint

blp = api_blueprint("me", __name__, "/me", "The signed-in user or the token's owner.")


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(dump_only=True)
    full_name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)


@blp.route("")
class Me(MethodView):
    @signed_in
    @blp.response(200, UserSchema)
    def get(self):  # type: ignore[no-untyped-def]
        """The caller's account."""
        return request_user()
