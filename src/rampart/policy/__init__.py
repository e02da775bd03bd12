"""Authorization with Cedar: who may do what to which host, user or log. Deny by default.

The shipped schema (``schema.cedarschema``) and policies (``default.cedar``) encode the roles
(viewer, auditor, operator, admin), the team-tag boundary for hosts and the disabled-user ban;
`Authorizer.from_files` loads an operator's own policies instead.
"""

from rampart.policy.authorizer import Authorizer
from rampart.policy.model import AUDIT, FLEET, Decision, Principal, Resource, host, user

__all__ = ["AUDIT", "FLEET", "Authorizer", "Decision", "Principal", "Resource", "host", "user"]
