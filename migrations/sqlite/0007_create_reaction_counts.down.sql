drop table reaction_counts;
