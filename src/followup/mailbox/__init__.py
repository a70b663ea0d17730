"""Mailbox backends behind one narrow interface (:class:`followup.mailbox.base.Mailbox`)."""
