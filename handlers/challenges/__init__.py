"""Challenges: browse, join, find where to help, register someone one accompanies, meet the
other organisations taking part (the citizens' and organisations' side); the coordinators'
side lives beside them."""
