-- Nothing but responses (dropped before this) references activities.
drop table activities;
