"""Impact surveys, the respondents' side: the invitation, answering one question at a time,
the Surveys menu and the published results. The coordinators' side lives beside them."""
